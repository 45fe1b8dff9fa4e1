"""A real SMTP server on 127.0.0.1 for the `remind` tests (aiosmtpd in a thread), and what it received.

`SmtpServer(answers={2: "451 4.3.0 try later"})` answers the 2nd message it is given with that reply
instead of accepting it; `login=("user", "password")` requires AUTH (plain over loopback, as aiosmtpd
allows with auth_require_tls=False, unless a `tls_context` is given: then STARTTLS first).
"""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """The aiosmtpd handler: keeps every accepted message, answers some with a refusal."""

    def __init__(self, answers: dict[int, str] | None = None) -> None:
        self.answers = dict(answers or {})
        self.attempts = 0
        self.received: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.attempts += 1
        answer = self.answers.get(self.attempts)
        if answer:
            return answer
        raw = envelope.original_content or envelope.content
        self.received.append({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "raw": raw,
            "message": email.message_from_bytes(raw, policy=email.policy.default),
        })
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(self, *, answers: dict[int, str] | None = None, login: tuple[str, str] | None = None,
                 tls_context=None, require_starttls: bool = False) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.recorder = Recorder(answers)
        self.port = free_port()
        self.host = "127.0.0.1"
        kwargs: dict[str, Any] = {}
        if login is not None:
            user, password = login

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
                    user.encode(), password.encode())
                return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls_context is not None)
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        self.controller = Controller(self.recorder, hostname=self.host, port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return [item["message"] for item in self.recorder.received]

    @property
    def raw(self) -> list[bytes]:
        return [item["raw"] for item in self.recorder.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [item["message"] for item in self.recorder.received if address in item["rcpt_tos"]]
