"""What a command run works with: the ledger, the Stripe gateway, and the audit log.

Both are opened lazily, so a command that only reads the ledger never imports `stripe`, and one that
only talks to Stripe never creates a ledger file.

The audit row (`audited`) is the one way a mutating command is recorded, and the service that carries the
command out opens it, never the CLI (docs/architecture.md, "One audit row per mutating command").
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from sarapay.errors import BadInput, Cancelled, Interrupted, SarapayError

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.stripe_gateway import Gateway


class Context:
    def __init__(self, *, live: bool = False, ledger: Ledger | None = None, gateway: Gateway | None = None) -> None:
        self.live = live
        self._ledger = ledger
        self._gateway = gateway
        # The id of the last Stripe request of this run (None when it got no answer), as the gateway tells it:
        # what the audit row names unless the command says which request mattered (`entry.request_id`).
        self._heard_request_id: str | None = None
        if gateway is not None:
            gateway.listener = self._hear

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from sarapay import settings
            from sarapay.ledger import open_ledger

            self._ledger = open_ledger(settings.ledger_location())  # a SQLite file, or the team's PostgreSQL
        return self._ledger

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            from sarapay.stripe_gateway import Gateway

            self._gateway = Gateway.from_settings(live=self.live, listener=self._hear)
        return self._gateway

    def _hear(self, request_id: str | None) -> None:
        self._heard_request_id = request_id

    def resolve_key(self) -> Gateway:
        """Builds the gateway now, so the key is resolved and mode-checked (ConfigError) before anything is
        written: a bad key leaves no trace."""
        return self.gateway

    @property
    def has_gateway(self) -> bool:
        return self._gateway is not None

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ audit

    @contextmanager
    def audited(self, command: str, target: str | None = None) -> Iterator[AuditEntry]:
        """Exactly one audit row per mutating command, whatever its outcome.

        Parse the user's values inside the block, so a mistyped one is recorded as "refused" too; once
        parsed, set `entry.target` to the normalised value (the raw text is the target until then). The
        body may also set `entry.outcome` ("dry_run"...) and `entry.detail`, or `entry.record = False` when a
        successful run changed nothing; an exception records "cancelled", "refused" or "error" and propagates.
        The row names the Stripe request the body puts in `entry.request_id` (a money move names its own, not
        the reads after it), else the run's last one.
        """
        entry = AuditEntry(target)
        try:
            yield entry
        except Cancelled as exc:
            self._append_quietly(command, entry, "cancelled", entry.detail or exc.key)
            raise
        except Interrupted as exc:
            said = "interrupted, outcome unknown" if exc.outcome_unknown else "interrupted"
            self._append_quietly(command, entry, "error", _join(entry.detail, said))
            raise
        except SarapayError as exc:
            outcome = "refused" if exc.exit_code in (2, 4, 5) else "error"
            said = f"{exc.key}, outcome unknown" if exc.outcome_unknown else exc.key
            self._append_quietly(command, entry, outcome, _join(entry.detail, said, exc.stripe_code))
            raise
        except KeyboardInterrupt:  # Ctrl-C outside a request to Stripe (Interrupted says those)
            self._append_quietly(command, entry, "error", _join(entry.detail, "interrupted"))
            raise
        except BaseException as exc:
            self._append_quietly(command, entry, "error", _join(entry.detail, type(exc).__name__))
            raise
        else:
            if entry.record:
                self._append(command, entry, entry.outcome, entry.detail)

    def _append_quietly(self, command: str, entry: AuditEntry, outcome: str, detail: str | None) -> None:
        """The audit row of a failed command: if the ledger cannot take it (disk full, read-only), the
        command's own error, which says what happened to the money, is what the user must see."""
        try:
            self._append(command, entry, outcome, detail)
        except SarapayError:
            pass

    def _append(self, command: str, entry: AuditEntry, outcome: str, detail: str | None) -> None:
        try:
            ledger = self.ledger
        except SarapayError:
            return  # no usable ledger: the command's own error already says why
        target, request_id = entry.target, entry.request_id or self._heard_request_id
        try:
            ledger.append_audit(command, outcome=outcome, target=target, detail=detail, stripe_request_id=request_id)
        except BadInput:
            # The typed target looked like a card number or a key: the row is kept, without it.
            ledger.append_audit(command, outcome=outcome, target=None, detail=detail, stripe_request_id=request_id)


class AuditEntry:
    def __init__(self, target: str | None = None) -> None:
        self.target = target
        self.outcome = "ok"
        self.detail: str | None = None
        # The Stripe request the row names (a money move's own); None: the run's last request.
        self.request_id: str | None = None
        # False: the run changed nothing worth a row (a cron pass with nothing to do); failures are always recorded.
        self.record = True


def _join(*parts: Any) -> str | None:
    text = " ".join(str(p) for p in parts if p)
    return text or None
