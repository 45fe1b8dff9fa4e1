"""Practitioners: linking their Stripe account (Connect OAuth, created account, attached account),
checking the pairing, unlinking, and their default maximum.

Public API (other services import these; `ctx` is a services.context.Context; `rpps` and the other
arguments may be raw typed input: they are validated here, the RPPS normalised, IDNPS accepted):

    require_practitioner(ctx, rpps) -> Practitioner  # the ledger record; BadInput "practitioner.unknown" otherwise
    require_linked(ctx, rpps) -> Practitioner    # the ledger record with an account_id; BadInput otherwise
                                                 #   ("practitioner.unknown" / "practitioner.not_linked")
    start_oauth(ctx, rpps, email, name=None) -> dict           # {"rpps", "email", "url", "state", "expires_at"}
    parse_oauth_return(url) -> dict                            # {"code", "state", "error", "error_description"}
    complete_oauth(ctx, rpps, *, state, code=None, error=None) -> Practitioner
    create_account(ctx, rpps, email, name=None) -> dict        # {"practitioner", "onboarding": {...} | None, ...}
    attach_account(ctx, rpps, account_id, *, email=None, name=None) -> Practitioner
    check(ctx, rpps) -> dict                                   # pairing health, see `check`
    require_card_payments(ctx, rpps, account_id) -> dict       # the account; StripeRefused if it cannot take cards
    explain_payment_refusal(ctx, rpps, account_id, refusal)    # Stripe's refusal of a payment link, explained
    unlink(ctx, rpps, *, force=False, dry_run=False, present=None) -> dict        # the plan, with "done"
    set_default_max(ctx, rpps, amount) -> dict                 # {"practitioner", "previous_cents", ...}
    list_practitioners(ctx) -> list[Practitioner]; practitioner_view(row) -> dict (machine view)

Every outcome of a mutating call, a mistyped RPPS, email, amount or id included, leaves exactly one audit
row (ctx.audited; the values are parsed inside it) and changes nothing else.

Choices made here:
- A created account carries only opaque metadata {"rpps": RPPS, "sarapay": "1"} (the RPPS is a public
  professional identifier, nothing medical); its creation key is idempotency_key("account-create", RPPS),
  so a retry (or a second terminal) within Stripe's 24 h replays the same account instead of creating two.
- Unlinking an OAuth account deauthorises the platform (the account lives on). The platform cannot
  deauthorise an account it created itself (it controls it): unlink only forgets it locally and says the
  account remains on Stripe, reachable from the platform's dashboard (Connect › Comptes).
- `check`: healthy (charges, payouts, details submitted, nothing due, not disabled) or not, exit 0 either
  way; an account the platform controls that still owes information gets a fresh onboarding link; an
  account whose access was revoked is StripeRefused (exit 5) with how to relink.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlsplit

from sarapay import i18n, statuses
from sarapay.emails import normalize_email
from sarapay.errors import BadInput, Cancelled, SarapayError, StripeRefused
from sarapay.ids import idempotency_key, validate_account_id
from sarapay.inputs import clean, shown
from sarapay.money import MIN_CHARGE, format_amount, parse_amount
from sarapay.rpps import normalize_rpps
from sarapay.stripe_gateway import deauthorize_request  # stripe is imported only when a Gateway is built

if TYPE_CHECKING:
    from sarapay.records import Practitioner
    from sarapay.services.context import Context

LINK_OAUTH, LINK_CREATED, LINK_ATTACHED = "oauth", "created", "attached"
# A typo guard (2500 typed for 25,00), well above any teleconsultation fee.
MAX_CEILING = 50_000
# CSP L.1111-3 / R.4127-53: from 70 € a written prior information to the patient is required (domain.md).
WRITTEN_INFORMATION_FROM = 7_000
# Where Stripe sends the practitioner after hosted onboarding (return) or when the link was already used or
# expired (refresh). sarapay has no web server: against Stripe both land on the Stripe dashboard, and support
# issues a fresh link with `sarapay link RPPS --check`. Against the sandbox, its own stand-ins for the
# platform's pages (which say what is left to do and show that command): a test never leaves the sandbox.
ONBOARDING_RETURN_URL = "https://dashboard.stripe.com/"
ONBOARDING_REFRESH_URL = "https://dashboard.stripe.com/"
SANDBOX_ONBOARDING_PAGE = "/_sandbox/onboarding/{account}/{page}?rpps={rpps}"
# Against the sandbox, the OAuth consent sends the practitioner back to its return page, told the RPPS so
# it can show the whole `sarapay link RPPS --code … --state …` (Stripe itself keeps the Dashboard's default).
SANDBOX_OAUTH_RETURN = "/_sandbox/oauth/return?rpps={rpps}"
NAME_MAX = 120

_CODE = re.compile(r"ac_[A-Za-z0-9]{4,255}")
_STATE = re.compile(r"[A-Za-z0-9_-]{8,255}")

i18n.register(
    {
        "practitioner.unknown": {
            "fr": "Aucun praticien enregistré avec le RPPS {rpps} : enregistrez-le d'abord avec « sarapay link {rpps} --email EMAIL ».",
            "en": "No practitioner registered with RPPS {rpps}: register them first with 'sarapay link {rpps} --email EMAIL'.",
        },
        "practitioner.not_linked": {
            "fr": "Le praticien {rpps} n'est pas lié à Stripe : liez son compte avec « sarapay link {rpps} --email EMAIL » "
            "(ou --new, ou --account acct_…).",
            "en": "The practitioner {rpps} is not linked to Stripe: link their account with 'sarapay link {rpps} --email EMAIL' "
            "(or --new, or --account acct_…).",
        },
        "practitioner.already_linked": {
            "fr": "Le praticien {rpps} est déjà lié au compte Stripe {account_id} : vérifiez-le avec « sarapay link {rpps} --check », "
            "ou déliez-le d'abord avec « sarapay unlink {rpps} ».",
            "en": "The practitioner {rpps} is already linked to the Stripe account {account_id}: check it with 'sarapay link {rpps} --check', "
            "or unlink it first with 'sarapay unlink {rpps}'.",
        },
        "practitioner.bad_name": {
            "fr": "Le nom « {value} » n'est pas utilisable : une ligne de texte de {max} caractères au plus, par exemple « Dr Martin ».",
            "en": "The name “{value}” cannot be used: one line of text, {max} characters at most, for example “Dr Martin”.",
        },
        "link.bad_code": {
            "fr": "« {value} » n'est pas un code d'autorisation Stripe : il commence par ac_ et se trouve dans l'adresse de retour (code=ac_…).",
            "en": "“{value}” is not a Stripe authorisation code: it starts with ac_ and is found in the return address (code=ac_…).",
        },
        "link.bad_state": {
            "fr": "« {value} » n'est pas un paramètre state émis par sarapay : recopiez-le depuis l'adresse de retour (state=…).",
            "en": "“{value}” is not a state parameter issued by sarapay: copy it from the return address (state=…).",
        },
        "link.bad_return_url": {
            "fr": "L'adresse de retour « {value} » ne contient ni code ni erreur avec un state : recopiez l'adresse complète affichée après l'autorisation.",
            "en": "The return address “{value}” has neither a code nor an error with a state: copy the whole address shown after the authorisation.",
        },
        "link.consent_denied": {
            "fr": "Le praticien {rpps} a refusé l'accès sur la page Stripe, donc rien n'est lié : s'il change d'avis, "
            "envoyez-lui un nouveau lien (sarapay link {rpps} --email EMAIL).",
            "en": "The practitioner {rpps} denied access on the Stripe page, so nothing is linked: if they change their mind, "
            "send them a new link (sarapay link {rpps} --email EMAIL).",
        },
        "link.invalid_grant": {
            "fr": "Stripe refuse ce code d'autorisation (déjà utilisé, inconnu ou expiré) : recommencez avec « sarapay link {rpps} --email EMAIL ».",
            "en": "Stripe refuses this authorisation code (already used, unknown or expired): start again with 'sarapay link {rpps} --email EMAIL'.",
        },
        "link.account_not_connected": {
            "fr": "Le compte {account_id} n'est pas connecté à la plateforme (ou n'existe pas) : le praticien doit d'abord l'autoriser, "
            "avec le lien de « sarapay link {rpps} --email EMAIL ».",
            "en": "The account {account_id} is not connected to the platform (or does not exist): the practitioner must authorise it first, "
            "with the link from 'sarapay link {rpps} --email EMAIL'.",
        },
        "link.account_create_conflict": {
            "fr": "Un compte Stripe a déjà été demandé pour le RPPS {rpps} ces dernières 24 h avec d'autres informations (e-mail) : "
            "relancez avec la même adresse, ou rattachez ce compte avec « sarapay link {rpps} --account acct_… » (Stripe › Connect › Comptes).",
            "en": "A Stripe account was already requested for RPPS {rpps} in the last 24 hours with other details (email): "
            "re-run with the same address, or attach that account with 'sarapay link {rpps} --account acct_…' (Stripe › Connect › Accounts).",
        },
        "link.access_revoked": {
            "fr": "L'accès de la plateforme au compte {account_id} du praticien {rpps} a été révoqué (ou le compte n'existe plus) : "
            "déliez-le avec « sarapay unlink {rpps} », puis reliez-le avec « sarapay link {rpps} --email EMAIL ».",
            "en": "The platform's access to the account {account_id} of practitioner {rpps} was revoked (or the account no longer exists): "
            "unlink it with 'sarapay unlink {rpps}', then link it again with 'sarapay link {rpps} --email EMAIL'.",
        },
        "practitioner.cannot_take_cards": {
            "fr": "Le compte Stripe {account_id} du praticien {rpps} ne peut pas encore accepter de paiement par carte ({missing}) : "
            "aucun lien de paiement n'a été créé. « sarapay link {rpps} --check » dit ce qui manque et, pour un compte créé "
            "par la plateforme, renvoie le lien d'inscription.",
            "en": "The Stripe account {account_id} of practitioner {rpps} cannot take card payments yet ({missing}): "
            "no payment link was created. 'sarapay link {rpps} --check' says what is missing and, for an account the "
            "platform created, sends the onboarding link again.",
        },
        "practitioner.missing.onboarding": {
            "fr": "inscription Stripe inachevée : {items}",
            "en": "Stripe onboarding unfinished: {items}",
        },
        # Counted phrases (i18n.count): "singular|plural".
        "practitioner.n_still_requested": {
            "fr": "{n} information encore demandée|{n} informations encore demandées",
            "en": "{n} item still requested|{n} items still requested",
        },
        "practitioner.n_items": {"fr": "{n} information|{n} informations", "en": "{n} item|{n} items"},
        "unlink.n_holds": {
            "fr": "{n} empreinte bancaire non capturée|{n} empreintes bancaires non capturées",
            "en": "{n} uncaptured card hold|{n} uncaptured card holds",
        },
        "practitioner.missing.requirements": {
            "fr": "Stripe redemande {items}",
            "en": "Stripe asks again for {items}",
        },
        "practitioner.missing.details": {
            "fr": "inscription Stripe inachevée",
            "en": "Stripe onboarding unfinished",
        },
        "practitioner.missing.verification": {
            "fr": "vérification en cours chez Stripe",
            "en": "verification pending at Stripe",
        },
        "practitioner.missing.disabled": {
            "fr": "paiements par carte désactivés par Stripe : {reason}",
            "en": "card payments disabled by Stripe: {reason}",
        },
        "unlink.holds_pending": {
            "fr": "Le praticien {rpps} a {holds} : capturez-les ou annulez-les d'abord "
            "(sarapay status --practitioner {rpps} --state uncaptured), ou forcez avec --force (elles ne pourront plus être ni capturées ni libérées par la plateforme).",
            "en": "The practitioner {rpps} has {holds}: capture or cancel them first "
            "(sarapay status --practitioner {rpps} --state uncaptured), or force with --force (the platform will no longer be able to capture or release them).",
        },
        "prefs.below_min": {
            "fr": "Le maximum {value} est trop bas : Stripe n'accepte pas de paiement sous {min}. Indiquez au moins 0,50.",
            "en": "The maximum {value} is too low: Stripe accepts no payment below {min}. Give at least 0.50.",
        },
        "prefs.bad_lang": {
            "fr": "Langue « {value} » inconnue pour les e-mails du praticien : fr (français, par défaut) ou en (anglais).",
            "en": "Unknown language '{value}' for the practitioner's emails: fr (French, the default) or en (English).",
        },
        "prefs.above_ceiling": {
            "fr": "Le maximum {value} dépasse le plafond de sarapay ({ceiling}) pour une téléconsultation : vérifiez le montant (faute de frappe ?).",
            "en": "The maximum {value} is above sarapay's ceiling ({ceiling}) for a teleconsultation: check the amount (a typo?).",
        },
    }
)


# --------------------------------------------------------------------------- lookups shared with other services


def require_practitioner(ctx: Context, rpps: str) -> Practitioner:
    """The practitioner's ledger row (linked or not); BadInput when the RPPS is invalid or unknown."""
    number = normalize_rpps(rpps)
    row = ctx.ledger.get_practitioner(number)
    if row is None:
        raise BadInput("practitioner.unknown", rpps=number)
    return row


def require_linked(ctx: Context, rpps: str) -> Practitioner:
    """The practitioner's ledger row, guaranteed to carry an `account_id`; BadInput otherwise.

    Plan, capture, payouts... call this before talking to Stripe on the practitioner's account."""
    row = require_practitioner(ctx, rpps)
    account_of(row)
    return row


def account_of(row: Practitioner) -> str:
    """The practitioner's connected account (acct_…); BadInput "practitioner.not_linked" when there is none."""
    if not row.account_id:
        raise BadInput("practitioner.not_linked", rpps=row.rpps)
    return row.account_id


def list_practitioners(ctx: Context) -> list[Practitioner]:
    return ctx.ledger.list_practitioners()


def practitioner_view(row: Practitioner) -> dict[str, Any]:
    """The machine view of a practitioner (stable keys, cents, ISO UTC)."""
    return {
        "rpps": row.rpps,
        "name": row.name,
        "email": row.email,
        "account_id": row.account_id,
        "link_method": row.link_method,
        "linked_at": row.linked_at,
        "default_max_cents": row.default_max_cents,
        "currency": "eur",
        "livemode": bool(row.livemode),
        "lang": row.lang or "fr",
        "disconnected_at": row.disconnected_at,
    }


i18n.register(
    {
        "practitioners.disconnected": {
            "fr": "Le praticien {rpps} a déconnecté la plateforme de son tableau de bord Stripe le {at} (UTC) : plus aucune "
            "opération n'est possible sur son compte ; ses consultations ouvertes sont signalées par « sarapay reconcile ». "
            "Pour le relier : sarapay link {rpps} --email EMAIL.",
            "en": "Practitioner {rpps} disconnected the platform from their Stripe dashboard on {at} (UTC): nothing can be done "
            "on their account any more; their open consultations are reported by 'sarapay reconcile'. To link them again: "
            "sarapay link {rpps} --email EMAIL.",
        },
    }
)


def disconnected(ctx: Context, rpps: str | None = None) -> list[dict[str, Any]]:
    """The practitioners (or the one named) who disconnected the platform (account.application.deauthorized,
    recorded by `webhooks serve`), as warnings to show: [{"rpps", "at"}]."""
    rows = ctx.ledger.list_practitioners()
    return [{"rpps": r.rpps, "at": r.disconnected_at} for r in rows
            if r.disconnected_at and (rpps is None or r.rpps == rpps)]


# --------------------------------------------------------------------------- input checks (before any write)


def _name(text: str | None) -> str | None:
    if text is None:
        return None
    value = clean(text)
    if not value or len(value) > NAME_MAX or not value.isprintable():
        raise BadInput("practitioner.bad_name", value=shown(value), max=NAME_MAX)
    return value


def _code(text: str) -> str:
    value = clean(text)
    if not _CODE.fullmatch(value):
        raise BadInput("link.bad_code", value=shown(value))
    return value


def _state(text: str) -> str:
    value = clean(text)
    if not _STATE.fullmatch(value):
        raise BadInput("link.bad_state", value=shown(value))
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _refuse_if_linked(row: Practitioner | None, *, unless_account: str | None = None) -> None:
    if row and row.account_id and row.account_id != unless_account:
        raise BadInput("practitioner.already_linked", rpps=row.rpps, account_id=row.account_id)


def _rethrow(error: SarapayError, new: SarapayError) -> SarapayError:
    """`new` keeping what the audit log and --json need from the gateway's error."""
    return new.with_stripe(error)


def _livemode(ctx: Context) -> bool:
    return ctx.gateway.key.is_live


# --------------------------------------------------------------------------- Connect OAuth


def start_oauth(ctx: Context, rpps: str, email: str, name: str | None = None) -> dict[str, Any]:
    """Registers the practitioner (no account yet) and returns the Connect OAuth authorisation URL.

    The URL carries a single-use, expiring `state` stored in the ledger (CSRF protection), scope
    read_write, and the email as a prefill. Needs a Connect client id (ConfigError otherwise)."""
    from sarapay.ledger import DEFAULT_OAUTH_STATE_TTL

    with ctx.audited("link.oauth-start", shown(rpps)) as entry:
        number, address, label = normalize_rpps(rpps), normalize_email(email), _name(name)
        entry.target = number
        _refuse_if_linked(ctx.ledger.get_practitioner(number))
        ctx.gateway.require_client_id()  # before anything is written: no state for a link that cannot be built
        ctx.ledger.upsert_practitioner(number, email=address, **({"name": label} if label else {}))
        issued = _now()
        state = ctx.ledger.create_oauth_state(number, ttl=DEFAULT_OAUTH_STATE_TTL)
        sandbox = _sandbox_base(ctx)
        redirect = sandbox + SANDBOX_OAUTH_RETURN.format(rpps=number) if sandbox else None
        url = ctx.gateway.oauth_authorize_url(state, address, scope="read_write", redirect_uri=redirect)
    return {
        "rpps": number,
        "email": address,
        "url": url,
        "state": state,
        "expires_at": int((issued + DEFAULT_OAUTH_STATE_TTL).timestamp()),
    }


def parse_oauth_return(url: str) -> dict[str, str | None]:
    """code, state, error and error_description from the address Stripe sent the practitioner back to."""
    raw = clean(url)
    query = dict(parse_qsl(urlsplit(raw).query))
    result = {key: query.get(key) or None for key in ("code", "state", "error", "error_description")}
    if not result["state"] or not (result["code"] or result["error"]):
        raise BadInput("link.bad_return_url", value=shown(raw))
    return result


def complete_oauth(
    ctx: Context, rpps: str, *, state: str, code: str | None = None, error: str | None = None
) -> Practitioner:
    """Spends the `state` (single use, not expired, issued for this RPPS: BadInput otherwise, and Stripe is
    not called), exchanges the code, and stores the connected account (link_method oauth).

    `error` (from the return address: the practitioner denied access) spends the state and raises Cancelled."""
    with ctx.audited("link.oauth", shown(rpps)) as entry:
        number, spent = normalize_rpps(rpps), _state(state)
        authorisation = "" if error else _code(code or "")
        entry.target = number
        _refuse_if_linked(ctx.ledger.get_practitioner(number))
        if authorisation:
            ctx.gateway.require_client_id()  # a missing configuration must not burn the state
        ctx.ledger.consume_oauth_state(spent, rpps=number)
        if error:
            entry.detail = f"denied {clean(error)[:40]}"
            raise Cancelled("link.consent_denied", rpps=number)
        try:
            token = ctx.gateway.oauth_token(authorisation)
        except StripeRefused as exc:
            if exc.stripe_code == "invalid_grant":
                raise _rethrow(exc, StripeRefused("link.invalid_grant", rpps=number)) from None
            raise
        account = token["stripe_user_id"]
        entry.detail = account
        return ctx.ledger.upsert_practitioner(
            number, account_id=account, link_method=LINK_OAUTH, linked_at=_now(), livemode=bool(token.get("livemode"))
        )


# --------------------------------------------------------------------------- created and attached accounts


def _sandbox_base(ctx: Context) -> str | None:
    from sarapay.settings import sandbox_base

    return sandbox_base(ctx.gateway.api_base)


def _onboarding_link(ctx: Context, account_id: str, rpps: str) -> dict[str, Any]:
    refresh, back = ONBOARDING_REFRESH_URL, ONBOARDING_RETURN_URL
    sandbox = _sandbox_base(ctx)
    if sandbox:
        refresh, back = (sandbox + SANDBOX_ONBOARDING_PAGE.format(account=account_id, page=page, rpps=rpps)
                         for page in ("refresh", "return"))
    link = ctx.gateway.create_account_link(account_id, refresh, back)
    return {"url": link["url"], "expires_at": link.get("expires_at")}


def create_account(ctx: Context, rpps: str, email: str, name: str | None = None) -> dict[str, Any]:
    """Creates a connected account the platform controls, stores it (link_method created) and issues its
    onboarding link. Returns {"practitioner", "account_id", "onboarding": {"url", "expires_at"} | None,
    "onboarding_error": message | None} (the account is stored even if the link could not be issued:
    `check` issues another)."""
    from sarapay.stripe_gateway import METADATA_PRACTITIONER, METADATA_SOURCE

    with ctx.audited("link.new", shown(rpps)) as entry:
        number, address, label = normalize_rpps(rpps), normalize_email(email), _name(name)
        entry.target = number
        _refuse_if_linked(ctx.ledger.get_practitioner(number))
        gateway = ctx.gateway
        ctx.ledger.upsert_practitioner(number, email=address, **({"name": label} if label else {}))
        try:
            account = gateway.create_account(
                address,
                {METADATA_PRACTITIONER: number, METADATA_SOURCE: "1"},
                idempotency_key=idempotency_key("account-create", number),
            )
        except StripeRefused as exc:
            if exc.stripe_code == "idempotency_error":
                raise _rethrow(exc, StripeRefused("link.account_create_conflict", rpps=number)) from None
            raise
        entry.detail = account["id"]
        row = ctx.ledger.upsert_practitioner(
            number, account_id=account["id"], link_method=LINK_CREATED, linked_at=_now(), livemode=_livemode(ctx)
        )
        onboarding, problem = None, None
        try:
            onboarding = _onboarding_link(ctx, account["id"], number)
        except SarapayError as exc:  # the account exists and is stored: --check will issue the link
            problem = exc.message
            entry.detail = f"{account['id']} no-onboarding-link {exc.key}"
    return {"practitioner": row, "account_id": account["id"], "onboarding": onboarding, "onboarding_error": problem}


def attach_account(
    ctx: Context, rpps: str, account_id: str, *, email: str | None = None, name: str | None = None
) -> Practitioner:
    """Attaches an account already connected to the platform, after Stripe confirms the platform reaches it
    (403 account_invalid: StripeRefused "link.account_not_connected"). Re-attaching the same account is fine."""
    with ctx.audited("link.attach", shown(rpps)) as entry:
        number, account = normalize_rpps(rpps), validate_account_id(account_id)
        address = normalize_email(email) if email is not None else None
        label = _name(name)
        entry.target = number
        _refuse_if_linked(ctx.ledger.get_practitioner(number), unless_account=account)
        try:
            info = ctx.gateway.retrieve_account(account)
        except StripeRefused as exc:
            if exc.stripe_code == "account_invalid":
                raise _rethrow(exc, StripeRefused("link.account_not_connected", account_id=account, rpps=number)) from None
            raise
        entry.detail = account
        fields: dict[str, Any] = {"account_id": account, "link_method": LINK_ATTACHED, "linked_at": _now(), "livemode": _livemode(ctx)}
        if address or info.get("email"):
            fields["email"] = address or info["email"]
        if label:
            fields["name"] = label
        return ctx.ledger.upsert_practitioner(number, **fields)


# --------------------------------------------------------------------------- pairing health


def _controlled(account: dict[str, Any], row: Practitioner) -> bool:
    """Whether the platform controls the account (it created it): only then can it issue onboarding links."""
    controller = account.get("controller") or {}
    return controller.get("is_controller") is True or row.link_method == LINK_CREATED


def check(ctx: Context, rpps: str) -> dict[str, Any]:
    """The pairing's health from Stripe:

    {"rpps", "account_id", "link_method", "controlled", "charges_enabled", "payouts_enabled",
     "details_submitted", "currently_due": [...], "past_due": [...], "disabled_reason", "healthy",
     "onboarding": {"url", "expires_at"} | None}

    A fresh onboarding link is issued when the platform controls the account and it still owes information.
    Revoked access (403) is StripeRefused "link.access_revoked"."""
    with ctx.audited("link.check", shown(rpps)) as entry:
        number = normalize_rpps(rpps)
        entry.target = number
        row = require_linked(ctx, number)
        account_id = account_of(row)
        account = _read_account(ctx, number, account_id)
        requirements = account.get("requirements") or {}
        health: dict[str, Any] = {
            "rpps": number,
            "account_id": account_id,
            "link_method": row.link_method,
            "controlled": _controlled(account, row),
            "charges_enabled": bool(account.get("charges_enabled")),
            "payouts_enabled": bool(account.get("payouts_enabled")),
            "details_submitted": bool(account.get("details_submitted")),
            "currently_due": list(requirements.get("currently_due") or []),
            "past_due": list(requirements.get("past_due") or []),
            "disabled_reason": requirements.get("disabled_reason"),
            "onboarding": None,
        }
        owes = not health["details_submitted"] or bool(health["currently_due"] or health["past_due"])
        health["healthy"] = (
            health["charges_enabled"] and health["payouts_enabled"] and not owes and not health["disabled_reason"]
        )
        entry.detail = "healthy" if health["healthy"] else "needs-attention"
        if owes and health["controlled"]:
            health["onboarding"] = _onboarding_link(ctx, account_id, number)
            entry.detail += " onboarding-link"
    return health


# --------------------------------------------------------------------------- can it take card payments?


def can_take_cards(account: dict[str, Any]) -> bool:
    """Whether Stripe lets the account take card payments now: `charges_enabled` and, when the account
    lists it, the `card_payments` capability active (some older accounts do not list it although they
    charge fine, so its absence alone is not a refusal)."""
    capability = (account.get("capabilities") or {}).get("card_payments")
    return bool(account.get("charges_enabled")) and capability in (None, "active")


def _missing(account: dict[str, Any]) -> str:
    """What keeps the account from taking cards, in a few words for the support user."""
    requirements = account.get("requirements") or {}
    due = set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or [])
    if not account.get("details_submitted"):
        return (
            i18n.t("practitioner.missing.onboarding", items=i18n.count("practitioner.n_still_requested", len(due)))
            if due else i18n.t("practitioner.missing.details")
        )
    if due:  # onboarded once, restricted since: information fell past due
        return i18n.t("practitioner.missing.requirements", items=i18n.count("practitioner.n_items", len(due)))
    if requirements.get("pending_verification"):
        return i18n.t("practitioner.missing.verification")
    capability = (account.get("capabilities") or {}).get("card_payments")
    reason = requirements.get("disabled_reason") or (f"card_payments {capability}" if capability else "charges_enabled false")
    return i18n.t("practitioner.missing.disabled", reason=reason)


def _read_account(ctx: Context, rpps: str, account_id: str) -> dict[str, Any]:
    try:
        return ctx.gateway.retrieve_account(account_id)
    except StripeRefused as exc:
        if exc.stripe_code == "account_invalid":
            raise _rethrow(exc, StripeRefused("link.access_revoked", account_id=account_id, rpps=rpps)) from None
        raise


def require_card_payments(ctx: Context, rpps: str, account_id: str) -> dict[str, Any]:
    """The practitioner's account, read from Stripe (one request), when it can take card payments;
    StripeRefused "practitioner.cannot_take_cards" (exit 5) saying what is missing otherwise, and
    "link.access_revoked" when the platform lost access. Called before a payment link is created: Stripe
    would refuse the Checkout Session anyway (400, card_payments capability not active), and sarapay
    then writes nothing. Nothing is cached: onboarding ends on Stripe's side, at any moment."""
    account = _read_account(ctx, rpps, account_id)
    if not can_take_cards(account):
        raise StripeRefused("practitioner.cannot_take_cards", account_id=account_id, rpps=rpps, missing=_missing(account))
    return account


def explain_payment_refusal(ctx: Context, rpps: str, account_id: str, refusal: StripeRefused) -> SarapayError:
    """The error to show when Stripe refused to create a payment link: "practitioner.cannot_take_cards"
    when the account (read again) cannot take cards — the check before the request passed, but onboarding
    changed in between, and Stripe's own refusal (no code, English text) is the last guard — or `refusal`
    itself otherwise. Only a codeless 400 is worth the extra read."""
    if getattr(refusal, "http_status", None) != 400 or getattr(refusal, "stripe_code", None):
        return refusal
    try:
        account = _read_account(ctx, rpps, account_id)
    except SarapayError:
        return refusal
    if can_take_cards(account):
        return refusal
    return _rethrow(
        refusal,
        StripeRefused("practitioner.cannot_take_cards", account_id=account_id, rpps=rpps, missing=_missing(account)),
    )


# --------------------------------------------------------------------------- unlink


def _unlink_plan(ctx: Context, row: Practitioner, force: bool) -> dict[str, Any]:
    number, account_id = row.rpps, account_of(row)
    holds = ctx.ledger.count_consultations(rpps=number, state=statuses.UNCAPTURED)
    if holds and not force:
        raise BadInput("unlink.holds_pending", rpps=number, holds=i18n.count("unlink.n_holds", holds))
    plan: dict[str, Any] = {
        "rpps": number,
        "name": row.name,
        "account_id": account_id,
        "link_method": row.link_method,
        "uncaptured": holds,
        "open_links": ctx.ledger.count_consultations(rpps=number, state=statuses.INCOMPLETE),
        "action": "deauthorize",
        "reason": None,
        "request": None,
        "done": False,
    }
    controlled = row.link_method == LINK_CREATED
    if row.link_method == LINK_ATTACHED:
        try:
            controlled = _controlled(ctx.gateway.retrieve_account(account_id), row)
        except StripeRefused as exc:
            if exc.stripe_code != "account_invalid":
                raise
            plan.update(action="forget", reason="already_revoked")
            return plan
    if controlled:
        plan.update(action="forget", reason="created_by_platform")
    else:
        plan["request"] = deauthorize_request(ctx.gateway.require_client_id(), account_id)  # what --dry-run shows, and is sent
    return plan


def _already_revoked(ctx: Context, account_id: str) -> bool:
    try:
        ctx.gateway.retrieve_account(account_id)
    except StripeRefused as exc:
        return exc.stripe_code == "account_invalid"
    return False


def unlink(
    ctx: Context,
    rpps: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    present: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Removes the platform's access to the practitioner's account, then forgets it in the ledger.

    `present(plan)` is called before anything changes: the CLI shows the banner and asks for confirmation
    there (raising Cancelled to stop), or shows the dry-run request. The plan's "action" is "deauthorize"
    (OAuth) or "forget" (an account the platform created, or access already revoked: nothing to send).
    Refused with BadInput while card holds are uncaptured, unless `force`."""
    with ctx.audited("unlink", shown(rpps)) as entry:
        number = normalize_rpps(rpps)
        entry.target = number
        row = require_linked(ctx, number)
        plan = _unlink_plan(ctx, row, force)
        entry.detail = f"{plan['account_id']} {plan['action']}" + (f" force holds={plan['uncaptured']}" if plan["uncaptured"] else "")
        if present is not None:
            present(plan)
        if dry_run:
            entry.outcome = "dry_run"
            return plan
        if plan["action"] == "deauthorize":
            try:
                ctx.gateway.send(plan["request"])
            except StripeRefused as exc:
                # invalid_client: "not connected to this account" (revoked on the practitioner's side) or a
                # wrong client id; only the first means the goal is already reached.
                if exc.stripe_code != "invalid_client" or not _already_revoked(ctx, plan["account_id"]):
                    raise
                plan["reason"] = "already_revoked"
                entry.detail += " already-revoked"
        ctx.ledger.unlink_account(number)
        plan["done"] = True
    return plan


# --------------------------------------------------------------------------- preferences


def parse_default_max(amount: str) -> int:
    """Cents of a default maximum: a money amount between MIN_CHARGE and MAX_CEILING; BadInput otherwise."""
    cents = parse_amount(amount)
    if cents < MIN_CHARGE:
        raise BadInput("prefs.below_min", value=format_amount(cents), min=format_amount(MIN_CHARGE))
    if cents > MAX_CEILING:
        raise BadInput("prefs.above_ceiling", value=format_amount(cents), ceiling=format_amount(MAX_CEILING))
    return cents


def set_default_max(ctx: Context, rpps: str, amount: str) -> dict[str, Any]:
    """Sets the practitioner's default maximum per teleconsultation.

    Returns {"practitioner", "previous_cents", "default_max_cents", "written_information_required"}: the last
    is True from WRITTEN_INFORMATION_FROM (70 €), where the patient must get a written prior information."""
    with ctx.audited("prefs.set-max", shown(rpps)) as entry:
        number, cents = normalize_rpps(rpps), parse_default_max(amount)
        entry.target = number
        previous = require_practitioner(ctx, number).default_max_cents
        row = ctx.ledger.set_default_max(number, cents)
        entry.detail = f"{previous}->{cents}"
    return {
        "practitioner": row,
        "previous_cents": previous,
        "default_max_cents": cents,
        "written_information_required": cents >= WRITTEN_INFORMATION_FROM,
    }


def set_lang(ctx: Context, rpps: str, lang: str) -> dict[str, Any]:
    """Sets the language of the emails sarapay sends the practitioner (reminders): "fr" (the default) or "en".

    Returns {"practitioner", "previous", "lang"}."""
    with ctx.audited("prefs.set-lang", shown(rpps)) as entry:
        number = normalize_rpps(rpps)
        entry.target = number
        value = clean(lang).lower()
        if value not in ("fr", "en"):
            raise BadInput("prefs.bad_lang", value=shown(lang))
        previous = require_practitioner(ctx, number).lang or "fr"
        row = ctx.ledger.set_practitioner_lang(number, value)
        entry.detail = f"{previous}->{value}"
    return {"practitioner": row, "previous": previous, "lang": value}
