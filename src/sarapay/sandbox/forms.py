"""Decoding Stripe's bracketed form encoding (docs/stripe-behaviour.md).

`a[b][c]=v` nests dicts, `a[0]=x&a[1]=y` (and `a[]=x`) build lists, values stay strings ("true",
"false", "" meaning "unset" are interpreted by the handlers). GET query strings carry the same keys
percent-encoded (`created%5Bgte%5D`), so keys are URL-decoded before the brackets are read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_APPEND = object()  # marker for `a[]`


def split_key(key: str) -> list[Any]:
    m = _KEY.match(key)
    if not m:
        return [key]  # malformed brackets: keep the raw key, the handler will reject it as unknown
    parts: list[Any] = [m.group(1)]
    for seg in re.findall(r"\[([^\[\]]*)\]", m.group(2)):
        parts.append(_APPEND if seg == "" else seg)
    return parts


def decode_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part is _APPEND:
                # `a[]=x`: the parent holds a list-like dict keyed by position.
                part = str(len(node))
            if last:
                # A repeated plain key keeps its last value (Rack/Stripe behaviour); `a[]` appends.
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    decoded: dict[str, Any] = _listify(root)  # the root stays a dict: only indexed keys become lists
    return decoded


def _listify(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists, ordered by index."""
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(isinstance(k, str) and k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def decode(query: str) -> dict[str, Any]:
    """Decode a query string or an x-www-form-urlencoded body."""
    return decode_pairs(parse_qsl(query, keep_blank_values=True))
