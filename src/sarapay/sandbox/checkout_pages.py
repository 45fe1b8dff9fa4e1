"""The patient's Checkout pages: the card hold, and the pages after it.

`GET /c/pay/{cs}` is a Checkout Session's `url`: who is paid (the connected account's own business name,
as Stripe shows it; the platform never sends it), when the teleconsultation is (the session's
`metadata[scheduled_at]`, ISO UTC, shown in Paris time), how much is held and what a hold means. The form
posts to the same address and is answered in HTML: the card is authorised (303 to `success_url`), or the
page comes back with the bank's refusal in French.

`/c/done/{cs}` and `/c/cancel/{cs}` are the sandbox's own landing pages, for a client with no portal
pages to send the patient back to (sarapay uses them by default when it talks to the sandbox).
`{CHECKOUT_SESSION_ID}` is replaced in `success_url` (as Stripe documents) and in `cancel_url` (the
sandbox's choice, Stripe's documentation leaves it open).
"""

from __future__ import annotations

import re
from typing import Any

from . import checkout, payments
from .framework import CONTROL, ROUTER, Request, Store, StripeError
from .pages import PARIS_LABEL, esc, field, initials, long_date, money, page, paris, see_other, short_date

PAGE = CONTROL  # the hosted pages need no key either

# The bank's answer, as a patient should read it. Lost and stolen cards read as a plain refusal (Stripe
# shows the customer nothing more either).
DECLINES = {
    "generic_decline": "Carte refusée par votre banque. Essayez une autre carte, ou contactez votre banque.",
    "lost_card": "Carte refusée par votre banque. Essayez une autre carte, ou contactez votre banque.",
    "stolen_card": "Carte refusée par votre banque. Essayez une autre carte, ou contactez votre banque.",
    "insufficient_funds": "Carte refusée : le solde ou le plafond de votre carte est insuffisant pour cette "
    "empreinte. Essayez une autre carte.",
    "expired_card": "Cette carte a expiré. Essayez une autre carte.",
    "incorrect_cvc": "Le cryptogramme visuel (CVC) est incorrect : vérifiez les 3 chiffres au dos de votre carte.",
    "processing_error": "Une erreur est survenue pendant le traitement de votre carte. Réessayez dans un instant.",
    "incorrect_number": "Le numéro de carte est incorrect : vérifiez-le.",
}
DECLINE_DEFAULT = DECLINES["generic_decline"]
EXPIRED = "Ce lien a expiré : demandez un nouveau lien à votre praticien."
TEST_CARDS = (
    ("4242 4242 4242 4242", "acceptée"),
    ("4000 0000 0000 0002", "refusée par la banque"),
    ("4000 0000 0000 9995", "fonds insuffisants"),
    ("4000 0000 0000 0259", "acceptée, puis contestée une fois capturée"),
)


# --------------------------------------------------------------------------- what the pages show


def _session(store: Store, cs_id: str) -> dict[str, Any] | None:
    session = store.locate(cs_id)
    return session if session is not None and session.get("object") == "checkout.session" else None


def _merchant(store: Store, session: dict[str, Any]) -> str:
    """The connected account's own public name, as Stripe shows it on Checkout."""
    acct = store.accounts.get(session["_account"]) or {}
    name = (acct.get("business_profile") or {}).get("name") or ((acct.get("settings") or {}).get("dashboard")
                                                               or {}).get("display_name")
    return name or "Votre praticien"


def _when(session: dict[str, Any]) -> str | None:
    moment = paris((session.get("metadata") or {}).get("scheduled_at"))
    return long_date(moment) if moment else None


def _substitute(url: str | None, session: dict[str, Any]) -> str | None:
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _unknown() -> tuple[int, str, dict[str, str]]:
    return page(404, "Lien de paiement inconnu",
                "<h1>Lien de paiement inconnu</h1><p>Ce lien de paiement n'existe pas. Vérifiez que vous avez "
                "copié l'adresse en entier, ou demandez un nouveau lien à votre praticien.</p>")


def _summary(store: Store, session: dict[str, Any], *, amount_label: str = "Empreinte bancaire") -> str:
    """Who is paid, how much is held, when the teleconsultation is: the same block on every page."""
    name = _merchant(store, session)
    when = _when(session)
    rows = [("Téléconsultation", esc(f"{when} ({PARIS_LABEL})" if when else "date communiquée par votre praticien"))]
    if session.get("client_reference_id"):
        rows.append(("Référence", f'<span class="mono">{esc(session["client_reference_id"])}</span>'))
    items = "".join(f"<dt>{esc(label)}</dt><dd>{html}</dd>" for label, html in rows)
    return f"""<div class="merchant"><span class="avatar" aria-hidden="true">{esc(initials(name))}</span>
<span>{esc(name)}</span></div>
<p class="label">{esc(amount_label)}</p>
<p class="amount">{esc(money(session["amount_total"], session["currency"]))}</p>
<dl class="summary">{items}</dl>"""


def _hold_note(store: Store, session: dict[str, Any]) -> str:
    name = _merchant(store, session)
    amount = money(session["amount_total"], session["currency"])
    return f"""<div class="note">
<p><strong>Rien n'est débité aujourd'hui.</strong> Votre banque réserve {esc(amount)} sur votre carte.</p>
<p>Après la téléconsultation, {esc(name)} encaisse le montant de l'acte, <strong>{esc(amount)} au plus</strong> ;
le reste de la réserve est libéré aussitôt.</p>
<p>Si l'acte n'est pas validé, rien n'est encaissé : la réserve est libérée, au plus tard
{payments.HOLD_DAYS} jours après votre autorisation.</p></div>"""


def _test_cards() -> str:
    items = "".join(f'<li><span class="mono">{esc(n)}</span> : {esc(w)}</li>' for n, w in TEST_CARDS)
    return (f'<div class="testcards"><p><strong>Cartes de test</strong></p><ul>{items}</ul>'
            "<p>Date d'expiration : toute date future. Cryptogramme : 3 chiffres au choix.</p></div>")


def _back_link(store: Store, session: dict[str, Any]) -> str:
    back = _substitute(session.get("cancel_url"), session)
    return f'<a class="back" href="{esc(back)}">← Retour</a>' if back else ""


def _layout(left: str, right: str) -> str:
    return f'<div class="split"><section class="summary-col">{left}</section><section>{right}</section></div>'


# --------------------------------------------------------------------------- the payment page


def _pay_form(store: Store, session: dict[str, Any], values: dict[str, str], errors: dict[str, str],
              decline: str | None) -> str:
    amount = money(session["amount_total"], session["currency"])
    name = _merchant(store, session)
    expires = paris(session.get("expires_at"))
    alert = (f'<div class="alert bad" role="alert"><strong>Empreinte non enregistrée</strong>{esc(decline)}</div>'
             if decline else "")
    # After a refusal or a mistake, the browser puts the cursor where the patient has to act (no script).
    focus = "card" if decline else next(iter(errors), None)
    card_fields = (
        field("card", "Numéro de carte", value=values.get("card", ""), error=errors.get("card"), focus=focus == "card",
              attrs='inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234" required')
        + '<div class="row">'
        + field("exp", "Expiration", value=values.get("exp", ""), error=errors.get("exp"), focus=focus == "exp",
                attrs='inputmode="numeric" autocomplete="cc-exp" placeholder="MM / AA" required')
        + field("cvc", "Cryptogramme", value="", error=errors.get("cvc"), focus=focus == "cvc",
                attrs='inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" maxlength="4" required')
        + "</div>")
    return f"""{alert}
<form class="card" method="post" action="/c/pay/{esc(session['id'])}" novalidate>
<h2 style="margin-top:0">Vos coordonnées</h2>
{field("email", "Adresse e-mail", value=values.get("email", ""), error=errors.get("email"), type="email",
       attrs='autocomplete="email" required', hint="Pour vous écrire au sujet de ce paiement.",
       focus=focus == "email")}
<h2>Carte bancaire</h2>
{card_fields}
<button class="btn" type="submit">Autoriser l'empreinte de {esc(amount)}</button>
<p class="small muted" style="margin-top:.8rem">En autorisant, vous permettez à {esc(name)} de débiter votre carte
d'au plus {esc(amount)} pour cette téléconsultation.{
    f" Ce lien est valable jusqu'au {esc(short_date(expires))}." if expires else ""}</p>
</form>
{_test_cards()}"""


def _pay_page(store: Store, session: dict[str, Any], values: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, decline: str | None = None, status: int = 200) -> Any:
    values = values if values is not None else {"email": session.get("customer_email") or ""}
    left = _back_link(store, session) + _summary(store, session) + _hold_note(store, session)
    right = _pay_form(store, session, values, errors or {}, decline)
    return page(status, f"Empreinte bancaire · {_merchant(store, session)}", _layout(left, right), wide=True)


def _expired_page(store: Store, session: dict[str, Any]) -> Any:
    body = f"""<div class="card"><h1>Lien de paiement expiré</h1>
<div class="alert warn" role="alert">{esc(EXPIRED)}</div>
<p>Rien n'a été réservé sur votre carte avec ce lien.</p><hr>
{_summary(store, session, amount_label="Empreinte demandée")}</div>"""
    return page(200, "Lien expiré", body)


@ROUTER.route("GET", "/c/pay/{id}", **PAGE)
def pay_page(req: Request) -> Any:
    session = _session(req.store, req.path_params["id"])
    if session is None:
        return _unknown()
    if session["status"] == "expired":
        return _expired_page(req.store, session)
    if session["status"] == "complete":
        return _done_page(req.store, session)
    return _pay_page(req.store, session)


def _check(p: dict[str, Any], now: int) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values (the CVC never comes back) and its problems, in French."""
    values = {k: str(p.get(k) or "").strip() for k in ("email", "card", "exp")}
    errors: dict[str, str] = {}
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        errors["email"] = "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr."
    digits = re.sub(r"[\s-]", "", values["card"])
    if not digits:
        errors["card"] = "Indiquez le numéro de votre carte."
    elif not digits.isdigit() or not 13 <= len(digits) <= 19:
        errors["card"] = DECLINES["incorrect_number"]
    m = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", values["exp"])
    if not values["exp"]:
        errors["exp"] = "Indiquez la date d'expiration (MM / AA)."
    elif not m or not 1 <= int(m.group(1)) <= 12:
        errors["exp"] = "La date d'expiration s'écrit MM / AA, par exemple 12 / 29."
    else:
        month, year = int(m.group(1)), int(m.group(2)) % 100 + 2000
        today = paris(now)
        if today is not None and (year, month) < (today.year, today.month):
            errors["exp"] = "Cette carte a expiré : sa date d'expiration est passée."
    if not re.fullmatch(r"\d{3,4}", str(p.get("cvc") or "").strip()):
        errors["cvc"] = "Le cryptogramme compte 3 chiffres (4 sur American Express)."
    return values, errors


@ROUTER.route("POST", "/c/pay/{id}", **PAGE)
def pay_submit(req: Request) -> Any:
    store = req.store
    session = _session(store, req.path_params["id"])
    if session is None:
        return _unknown()
    if session["status"] != "open":
        return see_other(f"/c/pay/{session['id']}")  # expired or already complete: the GET says which
    values, errors = _check(req.params, req.now)
    if errors:
        values["card"] = values["card"] if "card" not in errors else ""
        return _pay_page(store, session, values, errors, status=422)
    try:
        answer = checkout.pay(store, session["id"], values["card"], values["email"])
    except StripeError as exc:
        values["card"] = ""
        return _pay_page(store, session, values, {"card": DECLINES.get(exc.code or "", DECLINE_DEFAULT)},
                         status=422)
    if answer["outcome"] != "authorized":
        values["card"] = ""
        return _pay_page(store, session, values, decline=DECLINES.get(answer["decline_code"] or "", DECLINE_DEFAULT),
                         status=402)
    return see_other(_substitute(session.get("success_url"), session) or f"/c/done/{session['id']}")


# --------------------------------------------------------------------------- after the payment page


def _done_page(store: Store, session: dict[str, Any]) -> Any:
    name = _merchant(store, session)
    pi = store.find(session["_account"], session["payment_intent"]) if session.get("payment_intent") else None
    charge = store.find(session["_account"], pi["latest_charge"]) if pi and pi.get("latest_charge") else None
    held = money(session["amount_total"], session["currency"])
    status = pi["status"] if pi else None
    if pi is not None and status == "succeeded":
        refunded = (charge or {}).get("amount_refunded") or 0
        title = "Paiement effectué"
        text = (f"<p>{esc(name)} a encaissé <strong>{esc(money(pi['amount_received'], pi['currency']))}</strong> "
                f"pour cette téléconsultation ; le reste de l'empreinte a été libéré.</p>")
        if refunded:
            text += f"<p>{esc(money(refunded, pi['currency']))} vous ont été remboursés.</p>"
    elif status == "canceled":
        title = "Empreinte libérée"
        text = f"<p>Rien n'a été encaissé : les {esc(held)} réservés sur votre carte sont libérés.</p>"
    else:
        title = "Empreinte enregistrée"
        deadline = paris((((charge or {}).get("payment_method_details") or {}).get("card") or {}).get("capture_before"))
        until = f", au plus tard le {esc(short_date(deadline))}" if deadline else ""
        text = (f"<p><strong>Rien n'a été débité.</strong> Votre banque réserve {esc(held)} sur votre carte.</p>"
                f"<p>Après la téléconsultation, {esc(name)} encaissera le montant de l'acte, {esc(held)} au plus ; "
                f"sinon la réserve sera libérée{until}.</p>")
    body = f"""<div class="card"><div class="check" aria-hidden="true">✓</div>
<h1>{esc(title)}</h1>{text}
<p>Vous pouvez fermer cette page.</p><hr>
{_summary(store, session)}</div>"""
    return page(200, title, body)


@ROUTER.route("GET", "/c/done/{id}", **PAGE)
def done_page(req: Request) -> Any:
    session = _session(req.store, req.path_params["id"])
    if session is None:
        return _unknown()
    if session["status"] == "expired":
        return _expired_page(req.store, session)
    if session["status"] == "open":
        return see_other(f"/c/pay/{session['id']}")  # nothing authorised yet: back to the form
    return _done_page(req.store, session)


@ROUTER.route("GET", "/c/cancel/{id}", **PAGE)
def cancel_page(req: Request) -> Any:
    store = req.store
    session = _session(store, req.path_params["id"])
    if session is None:
        return _unknown()
    if session["status"] == "expired":
        return _expired_page(store, session)
    if session["status"] == "complete":
        return _done_page(store, session)
    expires = paris(session.get("expires_at"))
    until = f" jusqu'au {esc(short_date(expires))}" if expires else ""
    body = f"""<div class="card"><h1>Empreinte non laissée</h1>
<p>Vous avez quitté la page de paiement : rien n'a été réservé sur votre carte.</p>
<p>Vous pouvez y revenir{until} avec le même lien.</p>
<a class="btn" href="/c/pay/{esc(session['id'])}">Revenir à la page de paiement</a></div>"""
    return page(200, "Empreinte non laissée", body)
