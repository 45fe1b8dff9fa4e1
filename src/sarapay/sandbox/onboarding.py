"""Hosted onboarding: what Stripe asks a French sole practitioner, in French, as a plain HTML form.

One form serves two pages: the Account Link page of an account the platform created
(`GET /setup/{acct}/{token}`) and the OAuth consent page, where a practitioner creates a Standard account
(oauth.py). It asks what Stripe's own onboarding asks before an account can take cards and receive
payouts — country, business type, SIREN, activity (MCC), website, IBAN, acceptance of the terms — and the
name patients see on the payment page. In test mode the identity document is taken as provided.

The platform's own return and refresh pages (Account Links' `return_url` / `refresh_url`) have sandbox
stand-ins, `/_sandbox/onboarding/{acct}/return` and `/refresh`, which sarapay uses when it talks to the
sandbox: nothing sends a practitioner to the real Stripe dashboard from a test.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from . import connect
from .framework import ROUTER, Request, Store, public
from .pages import esc, error_summary, field, hidden, page, redirect, see_other, select

FORM_TTL = 3600  # a page opened from a single-use link may be filled in for an hour

BUSINESS_TYPES = (
    ("individual", "Entrepreneur individuel", "profession libérale en nom propre, micro-entreprise"),
    ("company", "Société", "SELARL, SELAS, SCM…"),
)
# Stripe's merchant category codes for health professionals, in French.
ACTIVITIES = (
    ("8011", "Médecin"),
    ("8021", "Chirurgien-dentiste"),
    ("8031", "Ostéopathe"),
    ("8049", "Pédicure-podologue"),
    ("8050", "Soins infirmiers"),
    ("8099", "Autre professionnel de santé"),
)
TEST_IBAN = "FR14 2004 1010 0505 0001 3M02 606"  # Stripe's documented French test IBAN
TEST_SIREN = "123 456 782"  # made up, with a valid key

# What an account owes, in words a practitioner understands (Stripe's requirement names otherwise).
REQUIREMENTS_FR = {
    "business_profile.mcc": "le secteur d'activité",
    "business_profile.url": "le site web professionnel",
    "business_profile.name": "le nom affiché aux patients",
    "business_type": "le type d'activité",
    "external_account": "le compte bancaire (IBAN) qui reçoit les versements",
    "individual.verification.document": "une pièce d'identité",
    "tos_acceptance.date": "l'acceptation des conditions",
    "tos_acceptance.ip": "l'acceptation des conditions",
}


def requirements_fr(fields: list[str]) -> list[str]:
    said: list[str] = []
    for name in fields:
        words = REQUIREMENTS_FR.get(name, name)
        if words not in said:
            said.append(words)
    return said


# --------------------------------------------------------------------------- checks


def _digits(raw: str) -> str:
    return re.sub(r"[\s.\-]", "", raw or "")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_siren(raw: str) -> tuple[str | None, str | None]:
    """(the 9 digits, None) or (None, what is wrong). The key is Luhn's (INSEE); La Poste's SIREN is the
    one exception (the sum of its digits is a multiple of 5)."""
    digits = _digits(raw)
    if not digits:
        return None, "Indiquez votre numéro SIREN (9 chiffres)."
    if not digits.isdigit() or len(digits) != 9:
        if digits.isdigit() and len(digits) == 14:
            return None, "C'est un SIRET (14 chiffres) : indiquez le SIREN, ses 9 premiers chiffres."
        return None, "Le SIREN compte 9 chiffres."
    if not (luhn_ok(digits) or (digits.startswith("356000000") and sum(map(int, digits)) % 5 == 0)):
        return None, ("Ce numéro SIREN n'existe pas (sa clé de contrôle est fausse) : vérifiez-le sur votre avis "
                      "de situation INSEE.")
    return digits, None


def check_iban(raw: str) -> tuple[str | None, str | None]:
    """(the IBAN without spaces, None) or (None, what is wrong): French (FR, 27 characters), ISO 13616 key."""
    iban = re.sub(r"[\s\-]", "", raw or "").upper()
    if not iban:
        return None, "Indiquez l'IBAN du compte qui recevra les versements."
    if not iban.startswith("FR"):
        return None, "Indiquez un IBAN français : il commence par FR."
    if len(iban) != 27 or not iban.isalnum():
        return None, "Un IBAN français compte 27 caractères (FR76 suivi de 23 chiffres ou lettres)."
    if int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 != 1:
        return None, "Cet IBAN n'est pas valide (sa clé de contrôle est fausse) : recopiez-le depuis votre RIB."
    return iban, None


def mask_iban(iban: str) -> str:
    """FR14 •••• 2606: enough to recognise one's account, not enough to use it."""
    return f"{iban[:4]} •••• {iban[-4:]}"


def check_url(raw: str) -> tuple[str | None, str | None]:
    value = (raw or "").strip()
    if not value:
        return None, "Indiquez l'adresse de votre site web professionnel, ou de votre page sur un annuaire."
    if not re.match(r"^https?://", value, re.I):
        value = "https://" + value
    host = urlsplit(value).hostname or ""
    if " " in value or "." not in host.strip("."):
        return None, "Cette adresse web n'est pas valide : par exemple https://www.cabinet-martin.fr."
    return value, None


def _check_mcc(raw: str) -> tuple[str | None, str | None]:
    return (raw, None) if raw in dict(ACTIVITIES) else (None, "Choisissez votre secteur d'activité.")


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_form(p: dict[str, Any], *, ask_email: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned values of the onboarding form and, per field, what is wrong (French)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if ask_email:
        email = str(p.get("email") or "").strip()
        if not EMAIL.fullmatch(email):
            errors["email"] = "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr."
        values["email"] = email
    name = " ".join(str(p.get("business_name") or "").split())
    if not 2 <= len(name) <= 80:
        errors["business_name"] = "Indiquez le nom que vos patients verront, par exemple « Dre Claire Martin »."
    values["business_name"] = name
    if (p.get("country") or "FR") != "FR":
        errors["country"] = "Le bac à sable n'ouvre que des comptes en France."
    kind = p.get("business_type") or ""
    if kind not in {k for k, _, _ in BUSINESS_TYPES}:
        errors["business_type"] = "Choisissez le type d'activité."
    values["business_type"] = kind
    # In the order of the form, so that the first error is the first field to correct.
    for name_, check in (("siren", check_siren), ("mcc", _check_mcc), ("url", check_url), ("iban", check_iban)):
        clean, problem = check(str(p.get(name_) or ""))
        values[name_] = clean if clean else str(p.get(name_) or "")
        if problem:
            errors[name_] = problem
    if p.get("tos") != "accepted":
        errors["tos"] = "Acceptez les conditions pour terminer l'inscription."
    return values, errors


def apply(acct: dict[str, Any], values: dict[str, Any], now: int, ip: str | None, user_agent: str | None) -> None:
    """Store what the form collected on the account and finish its onboarding (as the control outcome
    `complete` does). The SIREN and the IBAN stay private: Stripe never shows them back in full."""
    acct["country"] = "FR"
    acct["business_type"] = values["business_type"]
    acct["business_profile"].update(name=values["business_name"], url=values["url"], mcc=values["mcc"])
    acct["settings"]["dashboard"]["display_name"] = values["business_name"]
    if values.get("email"):
        acct["email"] = values["email"]
    acct["tos_acceptance"].update(date=now, ip=ip, user_agent=(user_agent or "")[:200] or None)
    acct["_onboarding"] = {"siren": values["siren"], "iban": mask_iban(values["iban"])}
    connect.complete_onboarding(acct, now)


# --------------------------------------------------------------------------- the form


def form_fields(values: dict[str, Any], errors: dict[str, str], *, ask_email: bool) -> str:
    """The fields of the onboarding form, prefilled with `values`, each with its error."""
    def v(name: str) -> Any:
        return values.get(name) or ""

    first = next(iter(errors), None)  # the browser puts the cursor on the first field to correct

    def text(name: str, label: str, **kw: Any) -> str:
        return field(name, label, value=v(name), error=errors.get(name), focus=first == name, **kw)

    parts: list[str] = ["<h2>Vous et votre activité</h2>"]
    if ask_email:
        parts.append(text("email", "Adresse e-mail", type="email", attrs='autocomplete="email" required',
                          hint="Celle de votre compte Stripe ; Stripe vous y écrit."))
    parts.append(text("business_name", "Nom affiché à vos patients", attrs='autocomplete="organization" required',
                      hint="Il apparaît sur la page où vos patients laissent leur empreinte bancaire."))
    parts.append(select("country", "Pays", [("FR", "France")], value="FR", error=errors.get("country")))
    kind = v("business_type") or "individual"
    choices = "".join(
        f'<label class="choice"><input type="radio" name="business_type" value="{esc(code)}"'
        f'{" checked" if code == kind else ""}><span><strong>{esc(title)}</strong><br>'
        f'<span class="muted small">{esc(detail)}</span></span></label>'
        for code, title, detail in BUSINESS_TYPES)
    type_error = f'<span class="err">{esc(errors["business_type"])}</span>' if errors.get("business_type") else ""
    parts.append(f'<fieldset><legend class="legend">Type d\'activité</legend>{choices}{type_error}</fieldset>')
    parts.append(text("siren", "Numéro SIREN", attrs='inputmode="numeric" autocomplete="off" required',
                      hint=f"9 chiffres, sur votre avis de situation INSEE. En test : {TEST_SIREN}."))
    parts.append(select("mcc", "Secteur d'activité", [("", "Choisissez…"), *ACTIVITIES], value=v("mcc") or "8011",
                        error=errors.get("mcc"), focus=first == "mcc"))
    parts.append(text("url", "Site web professionnel", attrs='inputmode="url" autocomplete="url" required',
                      hint="Sans site, votre page sur le portail ou sur un annuaire professionnel."))
    parts.append("<h2>Versements</h2>")
    parts.append(text("iban", "IBAN du compte qui reçoit les versements",
                      attrs='autocomplete="off" spellcheck="false" required',
                      hint=f'Un compte en France (FR…). IBAN de test : <span class="mono">{esc(TEST_IBAN)}</span>.'))
    parts.append('<h2>Vérification</h2><p class="small muted">Stripe demande en production une pièce '
                 "d'identité ; en mode test, elle est considérée comme fournie.</p>")
    tos_error = f'<span class="err">{esc(errors["tos"])}</span>' if errors.get("tos") else ""
    tos_attrs = "".join(attr for attr, on in ((" checked", values.get("tos") == "accepted"),
                                              (" autofocus", first == "tos"),
                                              (' aria-invalid="true"', bool(errors.get("tos")))) if on)
    parts.append(
        '<div class="field"><label class="choice"><input type="checkbox" id="tos" name="tos" value="accepted" required'
        f"{tos_attrs}><span>J'accepte le contrat de services de Stripe et l'accord sur les comptes connectés "
        f"(en mode test, rien n'est signé).</span></label>{tos_error}</div>")
    return "".join(parts)


# --------------------------------------------------------------------------- Account Link pages


def _link(store: Store, account_id: str, token: str) -> dict[str, Any] | None:
    link = store.table("account_links").get(token)
    return link if link is not None and link["account"] == account_id else None


def _unknown_link() -> tuple[int, str, dict[str, str]]:
    return page(404, "Lien d'inscription inconnu",
                "<h1>Lien d'inscription inconnu</h1><p>Ce lien d'inscription n'existe pas. Vérifiez que vous "
                "avez copié l'adresse en entier, ou demandez un nouveau lien à la plateforme.</p>")


def _onboarding_form(acct: dict[str, Any], link_form: str, values: dict[str, Any], errors: dict[str, str],
                     action: str) -> str:
    email = acct.get("email")
    due = requirements_fr(acct["requirements"]["currently_due"])
    asked = (f'<div class="note"><p><strong>Stripe a besoin de :</strong> {esc(", ".join(due))}.</p></div>'
             if due else '<div class="note"><p>Votre compte est complet ; vous pouvez mettre à jour vos informations.</p></div>')
    return f"""
<p class="label">Inscription Stripe</p>
<h1>Activez les paiements en ligne de vos téléconsultations</h1>
<p>Votre plateforme de téléconsultation vous a ouvert un compte Stripe{f' (<strong>{esc(email)}</strong>)' if email else ''}.
Pour que vos patients puissent laisser une empreinte bancaire et que l'argent vous soit versé, complétez ces informations.</p>
{asked}
{error_summary(errors)}
<form class="card" method="post" action="{esc(action)}" novalidate>
{hidden({"form": link_form})}
{form_fields(values, errors, ask_email=False)}
<button class="btn" type="submit" name="action" value="submit">Terminer l'inscription</button>
<button class="btn secondary" type="submit" name="action" value="later" formnovalidate>Plus tard</button>
</form>"""


@ROUTER.route("GET", "/setup/{account}/{token}", auth="none")
def onboarding_page(req: Request) -> Any:
    """Stripe's hosted onboarding. Single use, as an Account Link is: a reload goes to refresh_url."""
    account_id, token = req.path_params["account"], req.path_params["token"]
    link = _link(req.store, account_id, token)
    if link is None:
        return _unknown_link()
    if link["used"] or req.now >= link["expires_at"]:
        return redirect(link["refresh_url"])
    link["used"] = True
    # The form the page holds stays good for a while after the link itself is spent.
    link["form"] = req.store.new_id("", 24)
    link["form_expires_at"] = req.now + FORM_TTL
    acct = req.store.accounts[account_id]
    values = {"business_name": acct["business_profile"].get("name"), "url": acct["business_profile"].get("url"),
              "mcc": acct["business_profile"].get("mcc"), "business_type": acct.get("business_type")}
    body = _onboarding_form(acct, link["form"], values, {}, f"/setup/{account_id}/{token}")
    return page(200, "Inscription Stripe", body)


@ROUTER.route("POST", "/setup/{account}/{token}", auth="none")
def onboarding_submit(req: Request) -> Any:
    account_id, token = req.path_params["account"], req.path_params["token"]
    link = _link(req.store, account_id, token)
    if link is None:
        return _unknown_link()
    p = req.params
    if not link.get("form") or p.get("form") != link["form"] or req.now >= link.get("form_expires_at", 0):
        return see_other(link["refresh_url"])
    if p.get("action") == "later":
        link["form"] = None
        return see_other(link["return_url"])  # what the practitioner left unfinished stays due, as on Stripe
    acct = req.store.accounts[account_id]
    values, errors = check_form(p, ask_email=False)
    values["tos"] = p.get("tos")
    if errors:
        return page(422, "Inscription Stripe", _onboarding_form(acct, link["form"], values, errors,
                                                                f"/setup/{account_id}/{token}"))
    before = public(acct)
    apply(acct, values, req.now, req.client_ip, req.headers.get("user-agent"))
    link["form"] = None
    previous = connect.diff(before, public(acct))
    if previous:
        connect.emit(req.store, account_id, "account.updated", connect.account_view(acct, acct.get("_controller")),
                     previous)
    return see_other(link["return_url"])


# --------------------------------------------------------------------------- the platform's pages, stood in for


def _rpps(req: Request) -> str:
    raw = str(req.params.get("rpps") or "")
    return raw if re.fullmatch(r"\d{11}", raw) else "RPPS"


def _support(command: str, rpps: str) -> str:
    placeholder = ("<p class=\"small muted\">Remplacez RPPS par le numéro RPPS du praticien.</p>"
                   if rpps == "RPPS" else "")
    return (f'<details><summary>Pour le support de la plateforme</summary><pre class="cmd">{esc(command)}</pre>'
            f"{placeholder}</details>")


@ROUTER.route("GET", "/_sandbox/onboarding/{account}/return", auth="none")
def return_page(req: Request) -> Any:
    """Where an Account Link sends the practitioner back (the platform's page; sarapay has none)."""
    acct = req.store.accounts.get(req.path_params["account"])
    if acct is None:
        return page(404, "Compte inconnu", "<h1>Compte inconnu</h1><p>Ce compte Stripe n'existe pas dans le bac à sable.</p>")
    rpps = _rpps(req)
    check = _support(f"sarapay link {rpps} --check", rpps)
    if acct.get("charges_enabled") and acct.get("payouts_enabled") and acct.get("details_submitted"):
        name = acct["business_profile"].get("name")
        iban = (acct.get("_onboarding") or {}).get("iban")
        rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in (
            ("Nom affiché", name), ("Versements sur", iban), ("Paiements par carte", "activés"),
            ("Versements", "activés")) if v)
        body = f"""<div class="card"><div class="check" aria-hidden="true">✓</div>
<h1>Inscription terminée</h1>
<p>Votre compte Stripe peut recevoir les empreintes bancaires de vos patients, et l'argent vous sera versé.</p>
<dl class="summary">{rows}</dl>
<p>Vous pouvez fermer cette page.</p></div>{check}"""
        return page(200, "Inscription terminée", body)
    due = requirements_fr(acct["requirements"]["currently_due"] or acct["requirements"]["past_due"])
    body = f"""<div class="card"><h1>Inscription à terminer</h1>
<div class="alert warn"><strong>Votre compte ne peut pas encore recevoir de paiements.</strong>
Stripe a encore besoin de : {esc(", ".join(due) or "quelques informations")}.</div>
<p>Pour reprendre, demandez un nouveau lien d'inscription à la plateforme (chaque lien ne sert qu'une fois).</p></div>{check}"""
    return page(200, "Inscription à terminer", body)


@ROUTER.route("GET", "/_sandbox/onboarding/{account}/refresh", auth="none")
def refresh_page(req: Request) -> Any:
    """Where a used or expired Account Link leads (the platform's page, which would issue a fresh link)."""
    acct = req.store.accounts.get(req.path_params["account"])
    rpps = _rpps(req)
    done = bool(acct and acct.get("details_submitted") and acct.get("charges_enabled"))
    extra = ("<p>Votre inscription est déjà terminée : il n'y a rien d'autre à faire.</p>" if done else
             "<p>Demandez un nouveau lien à la plateforme : il ne sert qu'une fois et reste valable quelques minutes.</p>")
    body = f"""<div class="card"><h1>Ce lien d'inscription a déjà servi ou a expiré</h1>
{extra}</div>{_support(f"sarapay link {rpps} --check", rpps)}"""
    return page(200, "Lien d'inscription expiré", body)
