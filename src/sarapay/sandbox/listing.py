"""The list envelope and cursor pagination (docs/stripe-behaviour.md).

Items come in newest first. `starting_after=X` is the page of objects older than X;
`ending_before=X` is the `limit` objects just newer than X, still newest first (the SDK walks
backwards by reversing pages). `url` is a path: the SDK refuses absolute URLs when paging.
"""

from __future__ import annotations

from typing import Any, Iterable

from .framework import Request, StripeError, int_param, missing, unknown_params

PAGING = {"limit", "starting_after", "ending_before", "expand"}
RANGE_OPS = ("gt", "gte", "lt", "lte")


def _limit(params: dict[str, Any]) -> int:
    limit = int_param(params, "limit", default=10)
    assert limit is not None
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    return limit


def range_filter(items: list[dict[str, Any]], params: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """`created=T` or `created[gt|gte|lt|lte]=T` (any integer field works the same way)."""
    spec = params.get(name)
    if spec is None or spec == "":
        return items
    if isinstance(spec, str):
        value = int_param(params, name)
        return [o for o in items if o.get(name) == value]
    if not isinstance(spec, dict):
        raise StripeError(400, f"Invalid {name}: must be an integer or a hash", code="parameter_invalid", param=name)
    bounds: dict[str, int] = {}
    for op, raw in spec.items():
        if op not in RANGE_OPS:
            raise StripeError(400, f"Received unknown parameter: {name}[{op}]", code="parameter_unknown",
                              param=f"{name}[{op}]")
        bounds[op] = int_param(spec, op) if raw != "" else None  # type: ignore[assignment]
        if bounds[op] is None:
            del bounds[op]
    checks = {"gt": lambda v, b: v > b, "gte": lambda v, b: v >= b, "lt": lambda v, b: v < b, "lte": lambda v, b: v <= b}
    return [o for o in items if o.get(name) is not None and all(checks[op](o[name], b) for op, b in bounds.items())]


def equal_filter(items: list[dict[str, Any]], params: dict[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
    """Plain equality filters (`status=paid`, `payment_intent=pi_…`): only those sent apply."""
    for name in names:
        value = params.get(name)
        if value is not None and value != "":
            items = [o for o in items if o.get(name) == value]
    return items


def paginate(
    req: Request,
    items: list[dict[str, Any]],
    url: str,
    kind: str,
    *,
    allowed: Iterable[str] = ("created",),
) -> dict[str, Any]:
    """Check parameters, apply `created` and the cursor window, and build the list object."""
    p = req.params
    allowed = set(allowed)
    unknown_params(p, PAGING | allowed)
    limit = _limit(p)
    if "created" in allowed:
        items = range_filter(items, p, "created")
    after, before = p.get("starting_after") or None, p.get("ending_before") or None
    if after and before:
        raise StripeError(400, "You may only specify one of these parameters: ending_before, starting_after.",
                          param="ending_before")
    cursor = after or before
    if cursor:
        ids = [o["id"] for o in items]
        if cursor not in ids:
            # The cursor must be an object of this kind on this account, even if filters exclude it.
            known = req.store.find(req.account, cursor)
            if known is None or known.get("object") != kind:
                raise missing(kind, cursor, "starting_after" if after else "ending_before")
            # It exists but is filtered out: place it by its order among all objects.
            ref = (known.get("created", 0), known["_seq"])
            older = [o for o in items if (o.get("created", 0), o["_seq"]) < ref]
            newer = [o for o in items if (o.get("created", 0), o["_seq"]) > ref]
        else:
            i = ids.index(cursor)
            newer, older = items[:i], items[i + 1:]
        if after:
            page, has_more = older[:limit], len(older) > limit
        else:
            page, has_more = newer[-limit:], len(newer) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
