"""sarapay's own errors: one class per exit code (docs/architecture.md, "Rules every change keeps").

Services raise these with a message key (see i18n.py) and its parameters; the CLI prints the
message in the user's language and exits with the class's code. Nothing here ever holds a secret key.
"""

from __future__ import annotations

from typing import Any

from sarapay import i18n


class SarapayError(Exception):
    exit_code = 1
    kind = "error"
    # Set on errors that come from a Stripe request (stripe_gateway): Stripe's error code, HTTP status and
    # request id, and whether the request may have been applied although no answer says so.
    stripe_code: str | None = None
    http_status: int | None = None
    request_id: str | None = None
    stripe_param: str | None = None  # the request parameter Stripe named in its refusal
    stripe_message: str | None = None  # Stripe's own words, short, keys masked
    outcome_unknown: bool = False

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    @property
    def message(self) -> str:
        return i18n.t(self.key, **self.params)

    def __str__(self) -> str:  # tracebacks and logs show the message, never raw parameters objects
        try:
            return self.message
        except Exception:  # a message key not registered yet must not hide the error
            return self.key

    def with_stripe(self, other: SarapayError) -> SarapayError:
        """This error, carrying the Stripe facts of `other` (a service re-says a gateway error in its words)."""
        self.stripe_code, self.http_status = other.stripe_code, other.http_status
        self.request_id, self.outcome_unknown = other.request_id, other.outcome_unknown
        self.stripe_param, self.stripe_message = other.stripe_param, other.stripe_message
        return self

    def to_json(self) -> dict[str, Any]:
        return {"error": {"kind": self.kind, "code": self.key, "message": self.message, "exit_code": self.exit_code}}


class BadInput(SarapayError):
    """Usage or bad input (exit 2)."""

    exit_code = 2
    kind = "bad_input"


class Cancelled(SarapayError):
    """The user refused the confirmation or cancelled (exit 3)."""

    exit_code = 3
    kind = "cancelled"


class ConfigError(SarapayError):
    """Authentication or configuration: no key, wrong mode, keyring unavailable, damaged ledger (exit 4)."""

    exit_code = 4
    kind = "config"


class StripeRefused(SarapayError):
    """Stripe answered and refused the request (exit 5)."""

    exit_code = 5
    kind = "stripe_refused"


class StripeUnavailable(SarapayError):
    """Network down or Stripe unavailable after retries (exit 6)."""

    exit_code = 6
    kind = "stripe_unavailable"


class MailUnavailable(SarapayError):
    """The mail server `remind` sends through cannot be reached, or dropped the connection (exit 6, as for
    Stripe: the network or a service is unavailable; what was not sent is retried on the next run)."""

    exit_code = 6
    kind = "mail_unavailable"


class Interrupted(SarapayError):
    """Ctrl-C (SIGINT) while a request to Stripe was on its way (exit 130): it may have been applied."""

    exit_code = 130
    kind = "interrupted"


EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_NEEDS_ACTION = 8
EXIT_INTERRUPTED = 130
