"""The Search API's query language, for PaymentIntents (docs/stripe-behaviour.md, "Requests").

`field:'value'`, `metadata['k']:'v'`, numeric `amount>100` / `created>=T`, `-` negates, clauses joined
by spaces/AND or by OR (not both). The sandbox is immediately consistent; Stripe is not.
"""

from __future__ import annotations

import re
from typing import Any

from .framework import Request, StripeError, int_param, unknown_params

_CLAUSE = re.compile(
    r"""\s*(-?)(metadata\[['"](?P<mkey>[^'"]+)['"]\]|[a-z_]+)\s*(?P<op>:|>=|<=|>|<)\s*(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s]+))\s*""")
FIELDS = {"amount", "created", "currency", "customer", "status", "metadata"}


def _parse(query: str) -> tuple[str, list[tuple[bool, str, str | None, str, str]]]:
    tokens = re.split(r"\s+(AND|OR)\s+", query.strip())
    joiners = set(tokens[1::2])
    if len(joiners) > 1:
        raise StripeError(400, "Search queries cannot mix AND and OR.", param="query")
    clauses = []
    for text in tokens[0::2]:
        pos = 0
        while pos < len(text):
            m = _CLAUSE.match(text, pos)
            if not m or m.end() == pos:
                raise StripeError(400, f"Invalid query: could not parse '{text[pos:]}'.", param="query")
            field = "metadata" if m.group("mkey") else m.group(2)
            if field not in FIELDS:
                raise StripeError(400, f"Field '{field}' is an unsupported search field.", param="query")
            value = next(v for v in (m.group("sq"), m.group("dq"), m.group("bare")) if v is not None)
            clauses.append((m.group(1) == "-", field, m.group("mkey"), m.group("op"), value))
            pos = m.end()
            if len(joiners) == 0 and pos < len(text):
                joiners = {"AND"}
    return (joiners.pop() if joiners else "AND"), clauses


def _match(obj: dict[str, Any], clause: tuple[bool, str, str | None, str, str]) -> bool:
    negate, field, mkey, op, value = clause
    actual = (obj.get("metadata") or {}).get(mkey or "") if field == "metadata" else obj.get(field)
    if op == ":":
        ok = str(actual) == value if actual is not None else value == ""
    else:
        if actual is None:
            return False
        try:
            a, b = int(actual), int(value)
        except (TypeError, ValueError):
            return False
        ok = {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
    return ok != negate


def search(req: Request, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    p = req.params
    unknown_params(p, {"query", "limit", "page"})
    query = p.get("query")
    if not query:
        raise StripeError(400, "Missing required param: query.", code="parameter_missing", param="query")
    joiner, clauses = _parse(query)
    combine = all if joiner == "AND" else any
    hits = [o for o in items if combine(_match(o, c) for c in clauses)]
    limit = int_param(p, "limit", default=10) or 10
    if not 1 <= limit <= 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    start = int(p["page"]) if str(p.get("page") or "").isdigit() else 0
    page = hits[start:start + limit]
    more = start + limit < len(hits)
    return {"object": "search_result", "data": page, "has_more": more, "url": url,
            "next_page": str(start + limit) if more else None}
