"""The mail server `remind` sends through: the only module that imports smtplib (inside its functions, so
no command but `remind` pays for it at start-up), and where SMTP failures become sarapay's errors.

    with Mailer(settings, password) as mailer:    # connect, STARTTLS, login: or ConfigError / MailUnavailable
        mailer.send(message)                       # accepted, or MessageNotSent / MailUnavailable

What each failure means for the run:
- the server cannot be reached, or answers "service not available" at connection: MailUnavailable (exit 6),
  nothing was sent;
- STARTTLS asked for but not offered, a certificate that does not verify, a login refused, a server that
  wants no login it was given (or the reverse): ConfigError (exit 4), nothing was sent;
- one message refused (its sender, recipient or content, 4xx or 5xx): MessageNotSent, the connection stays
  usable and the next message goes on; `temporary` says whether the next run may succeed by itself;
- the connection dropped while sending (or the server closed it, 421): MailUnavailable; the message under
  way was not accepted, so it is sent again on the next run (if the server had in fact kept it, that one
  message arrives twice: SMTP gives no way to know).
The password is revealed only to smtplib's login; no message or exception here carries it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sarapay import i18n
from sarapay.errors import ConfigError, MailUnavailable

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sarapay.credentials import SmtpPassword
    from sarapay.settings import SmtpSettings

DEFAULT_TIMEOUT = 30.0  # seconds per SMTP exchange: a cron job must not hang on a silent server

i18n.register(
    {
        "mail.unreachable": {
            "fr": "Le serveur d'envoi {server} est injoignable ({reason}) : aucun rappel n'est parti, ils partiront au "
            "prochain passage. Vérifiez le réseau et le réglage (sarapay config show).",
            "en": "The mail server {server} cannot be reached ({reason}): no reminder was sent, they will be on the next "
            "run. Check the network and the setting (sarapay config show).",
        },
        "mail.dropped": {
            "fr": "Le serveur d'envoi {server} a coupé la connexion ({reason}) : les rappels non envoyés partiront au "
            "prochain passage.",
            "en": "The mail server {server} dropped the connection ({reason}): the reminders not sent will be on the next run.",
        },
        "mail.no_starttls": {
            "fr": "Le serveur d'envoi {server} ne propose pas STARTTLS : sarapay n'y envoie rien en clair. Choisissez le "
            "port qui le propose (souvent 587), ou, pour un relais sur cette machine seulement, "
            "« sarapay config set-smtp 127.0.0.1:25 --no-starttls ».",
            "en": "The mail server {server} does not offer STARTTLS: sarapay sends nothing to it in clear text. Choose the "
            "port that offers it (often 587), or, for a relay on this machine only, "
            "'sarapay config set-smtp 127.0.0.1:25 --no-starttls'.",
        },
        "mail.tls_failed": {
            "fr": "La connexion chiffrée avec le serveur d'envoi {server} a échoué ({reason}) : rien n'a été envoyé. "
            "Vérifiez le nom du serveur et son certificat.",
            "en": "The encrypted connection with the mail server {server} failed ({reason}): nothing was sent. "
            "Check the server's name and its certificate.",
        },
        "mail.login_refused": {
            "fr": "Le serveur d'envoi {server} refuse l'identifiant {user} ou son mot de passe ({reason}) : rien n'a été "
            "envoyé. Vérifiez le mot de passe (trousseau du système ou SARAPAY_SMTP_PASSWORD).",
            "en": "The mail server {server} refuses the user {user} or its password ({reason}): nothing was sent. "
            "Check the password (OS keyring or SARAPAY_SMTP_PASSWORD).",
        },
        "mail.no_auth": {
            "fr": "Le serveur d'envoi {server} ne propose pas d'authentification ici : retirez l'identifiant "
            "(sarapay config set-smtp HÔTE[:PORT] sans --user), ou vérifiez que STARTTLS est actif.",
            "en": "The mail server {server} offers no authentication here: remove the user "
            "(sarapay config set-smtp HOST[:PORT] without --user), or check that STARTTLS is on.",
        },
        "mail.refused_session": {
            "fr": "Le serveur d'envoi {server} refuse la session ({reason}) : rien n'a été envoyé.",
            "en": "The mail server {server} refuses the session ({reason}): nothing was sent.",
        },
    }
)


class MessageNotSent(Exception):
    """The server refused one message; the connection is still usable. `temporary`: a 4xx answer."""

    def __init__(self, code: int | None, reason: str) -> None:
        self.code = code
        self.reason = reason
        self.temporary = code is None or 400 <= code < 500
        super().__init__(f"{code} {reason}")


def _reason(exc: BaseException) -> str:
    """A short, one-line account of an SMTP or socket failure (the server's words, never the password)."""
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", None)
    if code is not None:
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error or "")
        return f"{code} {' '.join(text.split())}".strip()
    text = getattr(exc, "strerror", None) or getattr(exc, "verify_message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:200]


class Mailer:
    """One SMTP session. Not thread-safe; open it, send, close it (a `with` block does both)."""

    def __init__(self, settings: SmtpSettings, password: SmtpPassword | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self._password = password
        self.timeout = timeout
        self._smtp: Any = None

    @property
    def server(self) -> str:
        return self.settings.address

    def __enter__(self) -> Mailer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        import smtplib

        from sarapay.settings import check_smtp_login_safe

        check_smtp_login_safe(self.settings)
        try:
            smtp = smtplib.SMTP(self.settings.host or "", self.settings.port, timeout=self.timeout)  # host checked by resolve_smtp
        except smtplib.SMTPResponseException as exc:  # 421 and friends at connection
            raise MailUnavailable("mail.unreachable", server=self.server, reason=_reason(exc)) from None
        except OSError as exc:  # refused, no route, unknown host (gaierror), timeout, disconnected at once
            raise MailUnavailable("mail.unreachable", server=self.server, reason=_reason(exc)) from None
        try:
            self._start(smtp)
        except BaseException:
            self._close(smtp)
            raise
        self._smtp = smtp

    def _start(self, smtp: Any) -> None:
        import smtplib
        import ssl

        try:
            smtp.ehlo()
            if self.settings.starttls:
                if not smtp.has_extn("starttls"):
                    raise ConfigError("mail.no_starttls", server=self.server)
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.settings.user:
                if not smtp.has_extn("auth"):
                    raise ConfigError("mail.no_auth", server=self.server)
                assert self._password is not None, "credentials.resolve_smtp gives a password with a user"
                smtp.login(self.settings.user, self._password.reveal())
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigError("mail.login_refused", server=self.server, user=self.settings.user, reason=_reason(exc)) from None
        except smtplib.SMTPNotSupportedError:
            raise ConfigError("mail.no_auth", server=self.server) from None
        except ssl.SSLError as exc:  # before OSError: SSLError is one
            raise ConfigError("mail.tls_failed", server=self.server, reason=_reason(exc)) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None
            raise ConfigError("mail.refused_session", server=self.server, reason=_reason(exc)) from None
        except smtplib.SMTPException as exc:  # "No suitable authentication method found"...
            raise ConfigError("mail.refused_session", server=self.server, reason=_reason(exc)) from None
        except OSError as exc:
            raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None

    def send(self, message: EmailMessage) -> None:
        """Hands `message` to the server; returns once it accepted it. MessageNotSent: refused, the session
        goes on; MailUnavailable: the connection is gone."""
        import smtplib

        if self._smtp is None:
            raise RuntimeError("Mailer.send before open")
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (None, b""))
            raise MessageNotSent(code, _reason(smtplib.SMTPResponseException(code, text)) if code else "refused") from None
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused
            if exc.smtp_code == 421:  # smtplib has closed the connection: the others cannot go either
                self._smtp = None
                raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None
            raise MessageNotSent(exc.smtp_code, _reason(exc)) from None
        except OSError as exc:  # timeout, reset: whether the server kept it is unknown
            self._close(self._smtp)
            self._smtp = None
            raise MailUnavailable("mail.dropped", server=self.server, reason=_reason(exc)) from None
        if refused:  # one recipient per message: "some refused" cannot happen, but never count it as sent
            code, text = next(iter(refused.values()))
            raise MessageNotSent(code, _reason(smtplib.SMTPResponseException(code, text)))

    def close(self) -> None:
        if self._smtp is not None:
            self._close(self._smtp)
            self._smtp = None

    @staticmethod
    def _close(smtp: Any) -> None:
        try:
            smtp.quit()
        except Exception:  # the server may be gone already: nothing more to say to it
            try:
                smtp.close()
            except Exception:
                pass
