"""Playing the patient and moving Stripe's clock — on the embedded sandbox only.

These talk to the sandbox's control endpoints (docs/sandbox.md), never to Stripe: the configured API
base must be a loopback sandbox, or they refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypedDict, TypeVar

from sarapay import i18n
from sarapay.errors import BadInput, ConfigError, StripeUnavailable
from sarapay.services.context import Context

if TYPE_CHECKING:
    from sarapay.records import Consultation
    from sarapay.sandbox_control import SandboxControl

T = TypeVar("T")


class Payment(TypedDict):
    """What the patient's payment did: Stripe's outcome, and the consultation as the ledger now has it."""

    outcome: str  # "authorized", or a decline
    decline_code: str | None
    consultation: Consultation


class Consent(TypedDict):
    """Where Stripe sends the practitioner back after the consent page, and what that return carries."""

    return_url: str
    code: str
    state: str
    rpps: str | None  # the RPPS sarapay put in the return address
    account_id: str | None

i18n.register(
    {
        "sandbox.not_configured": {
            "fr": "Cette commande ne joue que sur le bac à sable : pointez sarapay vers lui "
            "(sarapay config set-api-base http://127.0.0.1:12111 ou SARAPAY_API_BASE).",
            "en": "This command only plays on the sandbox: point sarapay at it "
            "(sarapay config set-api-base http://127.0.0.1:12111 or SARAPAY_API_BASE).",
        },
        "sandbox.unreachable": {
            "fr": "Le bac à sable ne répond pas à {url} : lancez-le avec « sarapay sandbox serve ».",
            "en": "The sandbox does not answer at {url}: start it with 'sarapay sandbox serve'.",
        },
        "sandbox.not_paid_online": {
            "fr": "La consultation {consultation_id} n'a pas de page de paiement : elle a été planifiée sans paiement en ligne.",
            "en": "Consultation {consultation_id} has no payment page: it was planned without online payment.",
        },
        "sandbox.not_an_authorize_url": {
            "fr": "« {value} » n'est pas une adresse d'autorisation du bac à sable : passez celle qu'affiche "
            "« sarapay link RPPS --email E-MAIL ».",
            "en": "“{value}” is not an authorisation address of the sandbox: pass the one printed by "
            "'sarapay link RPPS --email EMAIL'.",
        },
        "sandbox.refused": {
            "fr": "Le bac à sable refuse : {detail}",
            "en": "The sandbox refuses: {detail}",
        },
    }
)


def control(ctx: Context) -> SandboxControl:
    """The control client of the configured sandbox, or ConfigError when sarapay points at Stripe."""
    from sarapay import settings
    from sarapay.sandbox_control import SandboxControl

    base = settings.sandbox_base(settings.load_config().api_base)
    if not base:
        raise ConfigError("sandbox.not_configured")
    return SandboxControl(base)


def _reach(call: Callable[[], T], url: str) -> T:
    from sarapay.sandbox_control import SandboxControlError

    try:
        return call()
    except SandboxControlError as exc:
        detail = exc.body.get("error", {}).get("message") if isinstance(exc.body, dict) else str(exc.body)
        raise BadInput("sandbox.refused", detail=detail) from None
    except OSError:
        raise StripeUnavailable("sandbox.unreachable", url=url) from None


def pay(ctx: Context, consultation_id: str, card: str) -> Payment:
    """The patient fills the Checkout page of a consultation with a test card; the ledger follows."""
    from sarapay import ids
    from sarapay.services.refresh import refresh_consultation

    consultation_id = ids.normalize_consultation_id(consultation_id)
    sandbox = control(ctx)
    consultation = ctx.ledger.get_consultation(consultation_id)
    if consultation is None:
        raise BadInput("ledger.unknown_consultation", consultation_id=consultation_id)
    if not consultation.paid_online or not consultation.checkout_session_id:
        raise BadInput("sandbox.not_paid_online", consultation_id=consultation_id)
    session_id = consultation.checkout_session_id
    answer = _reach(lambda: sandbox.pay(session_id, card), sandbox.url)
    consultation = refresh_consultation(ctx, consultation)
    return {"outcome": answer["outcome"], "decline_code": answer.get("decline_code"), "consultation": consultation}


def advance(ctx: Context, seconds: int) -> int:
    """Moves the sandbox clock forward; returns Stripe's new time (unix)."""
    sandbox = control(ctx)
    return _reach(lambda: sandbox.advance(seconds), sandbox.url)


def consent(ctx: Context, authorize_url: str) -> Consent:
    """The practitioner approves the consent page of `authorize_url` (printed by `link --email`): returns the
    return address Stripe sends them to, with its code and state, and the RPPS sarapay put in it."""
    import urllib.parse

    sandbox = control(ctx)
    parts = urllib.parse.urlsplit(authorize_url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if not parts.path.endswith("/oauth/authorize") or not query.get("state"):
        from sarapay.inputs import shown

        raise BadInput("sandbox.not_an_authorize_url", value=shown(authorize_url))
    answer = _reach(lambda: sandbox.oauth_authorize(authorize_url), sandbox.url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer["redirect_url"]).query))
    return {"return_url": answer["redirect_url"], "code": answer["code"], "state": answer["state"],
            "rpps": back.get("rpps"), "account_id": answer.get("stripe_user_id")}
