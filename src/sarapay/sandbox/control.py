"""Control endpoints under /_sandbox/ (docs/sandbox.md): no key, never in the request log.

They drive what Stripe would do on its own (the clock, the patient's card) and what tests need to
observe or break (the request log, faults, reset, documented ambiguities).
"""

from __future__ import annotations

import html
import json
from typing import Any

from . import auth, checkout, clockwork, faults, persistence, webhooks
from .framework import ROUTER, Request, StripeError, int_param

CONTROL = {"auth": "none", "account_scoped": False}
SETTINGS = {"checkout_paid_on_authorize": False}


def _bool(value: Any, name: str) -> bool:
    if value in ("true", "1", True):
        return True
    if value in ("false", "0", False):
        return False
    raise StripeError(400, f"Invalid boolean for {name}: {value!r}", code="parameter_invalid", param=name)


@ROUTER.route("GET", "/_sandbox/health", **CONTROL)
def health(req: Request) -> dict[str, Any]:
    return {"ok": True, "now": req.now}


@ROUTER.route("GET", "/_sandbox/clock", **CONTROL)
def clock(req: Request) -> dict[str, Any]:
    return {"now": req.now}


@ROUTER.route("POST", "/_sandbox/clock/advance", **CONTROL)
def advance(req: Request) -> dict[str, Any]:
    seconds = int_param(req.params, "seconds", required=True)
    assert seconds is not None
    if seconds < 0:
        raise StripeError(400, "The sandbox clock only moves forward: seconds must be ≥ 0.",
                          code="parameter_invalid_integer", param="seconds")
    req.store.clock.advance(seconds)
    clockwork.run(req.store)
    webhooks.wake(req.store)  # retries that fell due
    return {"now": req.now}


@ROUTER.route("POST", "/_sandbox/checkout/sessions/{id}/pay", **CONTROL)
def pay(req: Request) -> dict[str, Any]:
    card = str(req.params.get("card") or "4242424242424242")
    return checkout.pay(req.store, req.path_params["id"], card, req.params.get("email") or None)


@ROUTER.route("POST", "/_sandbox/restricted_keys", **CONTROL)
def restricted_key(req: Request) -> dict[str, Any]:
    secret_key = str(req.params.get("secret_key") or "")
    if not secret_key:
        raise StripeError(400, "Missing required param: secret_key.", code="parameter_missing", param="secret_key")
    return auth.mint_restricted_key(req.store, secret_key)


@ROUTER.route("POST", "/_sandbox/faults", **CONTROL)
def add_fault(req: Request) -> dict[str, Any]:
    p = req.params
    kind = str(p.get("kind") or "")
    if kind not in faults.KINDS:
        raise StripeError(400, f"Invalid kind: must be one of {', '.join(faults.KINDS)}", param="kind")
    count = int_param(p, "count", default=1)
    latency = int_param(p, "latency_ms", default=0)
    assert count is not None and latency is not None
    if count < 1 or latency < 0:
        raise StripeError(400, "count must be ≥ 1 and latency_ms ≥ 0.", param="count")
    faults.add(req.store, kind, count, latency, p.get("method") or None, p.get("path") or None)
    return {"queued": req.store.misc["faults"]}


@ROUTER.route("GET", "/_sandbox/faults", **CONTROL)
def list_faults(req: Request) -> dict[str, Any]:
    # What is still queued: a test learns that a request has started once its fault was consumed.
    return {"queued": req.store.misc.get("faults", [])}


@ROUTER.route("DELETE", "/_sandbox/faults", **CONTROL)
def clear_faults(req: Request) -> dict[str, Any]:
    faults.clear(req.store)
    return {"queued": []}


@ROUTER.route("POST", "/_sandbox/reset", **CONTROL)
def reset(req: Request) -> dict[str, Any]:
    persistence.reset(req.store)
    return {"ok": True, "now": req.now}


@ROUTER.route("GET", "/_sandbox/requests", **CONTROL)
def requests(req: Request) -> dict[str, Any]:
    since = int_param(req.params, "since", default=0) or 0
    return {"data": [r for r in req.store.misc.get("request_log", []) if r["seq"] > since]}


@ROUTER.route("DELETE", "/_sandbox/requests", **CONTROL)
def clear_requests(req: Request) -> dict[str, Any]:
    req.store.misc["request_log"] = []
    return {"data": []}


@ROUTER.route("POST", "/_sandbox/settings", **CONTROL)
def settings(req: Request) -> dict[str, Any]:
    table = req.store.table("settings")
    for name, value in req.params.items():
        if name not in SETTINGS:
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
        table[name] = _bool(value, name)
    return {**SETTINGS, **table}


@ROUTER.route("GET", "/_sandbox/settings", **CONTROL)
def get_settings(req: Request) -> dict[str, Any]:
    return {**SETTINGS, **req.store.table("settings")}


# --------------------------------------------------------------------------- hosted Checkout page

_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Paiement (sandbox)</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>Paiement sécurisé (sandbox)</h1><p>{amount} — {status}</p>{form}
<p><small>Cartes de test : 4242 4242 4242 4242 (acceptée), 4000 0000 0000 0002 (refusée),
4000 0000 0000 9995 (fonds insuffisants).</small></p>
<script>
const f = document.getElementById('pay');
if (f) f.addEventListener('submit', async (e) => {{
  e.preventDefault();
  const r = await fetch(f.action, {{method: 'POST', body: new URLSearchParams(new FormData(f))}});
  const j = await r.json();
  document.getElementById('out').textContent = j.outcome === 'authorized'
    ? 'Carte acceptée. Vous pouvez fermer cette page.'
    : 'Paiement refusé : ' + (j.decline_code || (j.error && j.error.message));
  if (j.outcome === 'authorized' && {success}) location.href = {success};
}});
</script><p id="out"></p></body></html>"""


@ROUTER.route("GET", "/c/pay/{id}", **CONTROL)
def checkout_page(req: Request) -> Any:
    session = req.store.locate(req.path_params["id"])
    if session is None or session.get("object") != "checkout.session":
        return 404, "<!doctype html><p>Session de paiement inconnue.</p>"
    amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}".replace(".", ",")
    form = ""
    if session["status"] == "open":
        form = (f'<form id="pay" method="post" action="/_sandbox/checkout/sessions/{html.escape(session["id"])}/pay">'
                '<label>Numéro de carte <input name="card" value="4242 4242 4242 4242" size="24"></label> '
                '<button type="submit">Payer</button></form>')
    success = (session.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", session["id"])
    return 200, _PAGE.format(amount=html.escape(amount), status=html.escape(session["status"]), form=form,
                             success=json.dumps(success) if success else "''")
