"""`expand[]`: replace an id by the object it names, on the same account (docs/stripe-behaviour.md).

Paths are dotted (`latest_charge.balance_transaction`), at most 4 levels; on a list the paths start
with `data.` and apply to every item. Ids are looked up on the request's account only, so nothing
from another account can leak through an expansion.
"""

from __future__ import annotations

from typing import Any, Callable

from .framework import Request, StripeError, public

MAX_DEPTH = 4

# (object kind, field) -> builder for fields that are not plain ids (e.g. a session's line_items).
Builder = Callable[[Request, dict[str, Any]], Any]
VIRTUAL: dict[tuple[str, str], Builder] = {}


def virtual(kind: str, field: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        VIRTUAL[(kind, field)] = fn
        return fn

    return register


def check(req: Request) -> None:
    """Refuse too-deep paths before the handler runs, so a refused request changes nothing."""
    for i, path in enumerate(req.expand):
        parts = [p for p in str(path).split(".") if p]
        if len(parts) - (1 if parts[:1] == ["data"] else 0) > MAX_DEPTH:
            raise StripeError(400, "You cannot expand more than 4 levels of a property.", param=f"expand[{i}]")


def apply(req: Request, body: Any) -> Any:
    """Expand every requested path in a public response body (modified in place and returned)."""
    check(req)
    for i, path in enumerate(req.expand):
        parts = [p for p in str(path).split(".") if p]
        if body.get("object") == "list" and parts[:1] != ["data"]:
            raise StripeError(400, f"This property cannot be expanded ({path}). "
                              f"You may want to try expanding 'data.{path}' instead.", param=f"expand[{i}]")
        _walk(req, body, parts, path, i)
    return body


def _walk(req: Request, node: Any, parts: list[str], path: str, index: int) -> None:
    if not parts or node is None:
        return
    if isinstance(node, list):
        for item in node:
            _walk(req, item, parts, path, index)
        return
    if not isinstance(node, dict):
        raise StripeError(400, f"This property cannot be expanded ({path}).", param=f"expand[{index}]")
    name, rest = parts[0], parts[1:]
    kind = str(node.get("object"))
    if (kind, name) in VIRTUAL:
        if not isinstance(node.get(name), (dict, list)):
            node[name] = public(VIRTUAL[(kind, name)](req, node))
    elif name not in node:
        raise StripeError(400, f"This property cannot be expanded ({name}).", param=f"expand[{index}]")
    else:
        value = node[name]
        if isinstance(value, str):
            obj = req.store.find(req.account, value)
            if obj is None:
                raise StripeError(400, f"This property cannot be expanded ({name}).", param=f"expand[{index}]")
            node[name] = public(obj)
        elif value is not None and not isinstance(value, (dict, list)):
            raise StripeError(400, f"This property cannot be expanded ({name}).", param=f"expand[{index}]")
    _walk(req, node.get(name), rest, path, index)
