"""The ledger's records, and the one table of a consultation's fields.

The ledger (sarapay/ledger) returns these frozen records instead of dicts: `Consultation`, `Practitioner`,
`HistoryEntry` (a line of a consultation's timeline), `AuditEntry` (a line of the audit log) and `Totals`
(counts and sums per state). Values are kept as the ledger stores them, on both backends:
- times are the ledger's ISO 8601 UTC text (`2026-01-05T13:07:00Z`), except `capture_before` and
  `link_expires_at`, Stripe's own unix timestamps (int);
- money is integer cents; flags are bools.

`CONSULTATION_FIELDS` describes each column of a consultation once, and everything else is derived from it:
the ledger's validation of what a caller writes (`kind`, `writable`), the machine output's keys and order
(`machine`: a contract for users' scripts, see `machine_names`), the detail view's order (`detail`), the
totals' sums (`summed`) and the labels (`label_key`, registered by sarapay/render/cells.py).

This module imports nothing but the standard library: the ledger, the services and the views all use it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# What a field holds, which says how the ledger checks it and how views and machine output show it:
# id/text: plain text; free_text: typed by people (checked for card numbers and secret keys); email: the
# patient's address (masked on screen, left out of machine output unless asked); currency: a lowercase ISO
# code; state: a code of sarapay.statuses; cents: non-negative integer cents; signed_cents: integer cents that
# may go negative (Stripe's net after a refund larger than what was left); time: ISO 8601 UTC text; unix:
# Stripe's unix time (int); bool: a flag.
Kind = Literal["id", "text", "free_text", "email", "currency", "state", "cents", "signed_cents", "time", "unix", "bool"]
# In machine output: "listing" (every row of `status --json/--csv/--nl`, and the detail document), "document"
# (only `status ID --json`, after the listing's keys), None (never).
Machine = Literal["listing", "document"]


@dataclass(frozen=True, slots=True)
class Field:
    """One column of a record: its name (the ledger's column and the record's attribute) and what derives from it."""

    name: str
    kind: Kind
    writable: bool = True  # a caller may set it (insert/update); otherwise the ledger sets it (id, rpps, stamps)
    machine: Machine | None = None
    detail: int | None = None  # its rank in `sarapay status ID` (None: not shown)
    summed: bool = False  # summed per state by Ledger.totals and shown in the totals table
    column: str | None = None  # its short label as a table column (money columns): `view.col.<column>`

    @property
    def label_key(self) -> str:
        """The i18n key of its label in the detail view (registered by sarapay/render/cells.py)."""
        return f"view.field.{self.name}"

    @property
    def column_key(self) -> str | None:
        """The i18n key of its label as a table column (registered by sarapay/render/cells.py), if it has one."""
        return None if self.column is None else f"view.col.{self.column}"

    @property
    def is_cents(self) -> bool:
        return self.kind in ("cents", "signed_cents")

    @property
    def is_time(self) -> bool:
        return self.kind in ("time", "unix")


# In machine-output order (the order of `status --json` keys, a contract: never reorder, only append).
CONSULTATION_FIELDS: tuple[Field, ...] = (
    Field("id", "id", writable=False, machine="listing", detail=0),
    Field("rpps", "id", writable=False, machine="listing", detail=1),
    Field("scheduled_at", "time", machine="listing", detail=3),
    Field("state", "state", machine="listing", detail=4),
    Field("paid_online", "bool", machine="listing", detail=5),
    Field("currency", "currency", machine="listing"),
    Field("max_cents", "cents", machine="listing", detail=6, column="max"),
    Field("authorised_cents", "cents", machine="listing", detail=7, summed=True, column="authorised"),
    Field("captured_cents", "cents", machine="listing", detail=8, summed=True, column="captured"),
    Field("refunded_cents", "cents", machine="listing", detail=9, summed=True, column="refunded"),
    Field("fee_cents", "cents", machine="listing", detail=10, summed=True, column="fee"),
    Field("net_cents", "signed_cents", machine="listing", detail=11, summed=True, column="net"),
    Field("capture_before", "unix", machine="listing", detail=12),
    Field("checkout_session_id", "text", machine="listing", detail=16),
    Field("payment_intent_id", "text", machine="listing", detail=17),
    Field("patient_ref", "free_text", machine="listing", detail=14),
    Field("patient_email", "email", machine="listing", detail=15),
    Field("updated_at", "time", writable=False, machine="listing", detail=20),
    Field("account_id", "text", machine="document", detail=2),
    Field("charge_id", "text", machine="document", detail=18),
    Field("link_expires_at", "unix", machine="document", detail=13),
    Field("created_at", "time", writable=False, machine="document", detail=19),
    Field("stripe_synced_at", "time", machine="document", detail=21),
    Field("closed_on_purpose", "bool"),
)
CONSULTATION_FIELD = {field.name: field for field in CONSULTATION_FIELDS}
# What a caller may write; the ledger checks every value against its field's kind.
WRITABLE_CONSULTATION_FIELDS = {field.name: field for field in CONSULTATION_FIELDS if field.writable}
# The money summed per state, in this order (Ledger.totals, the totals table).
SUMMED_FIELDS: tuple[Field, ...] = tuple(field for field in CONSULTATION_FIELDS if field.summed)
# Every field of `sarapay status ID`, in its order.
DETAIL_FIELDS: tuple[Field, ...] = tuple(
    sorted((field for field in CONSULTATION_FIELDS if field.detail is not None), key=lambda field: field.detail or 0)
)


@functools.cache
def machine_names(*, show_email: bool = False, document: bool = False) -> tuple[str, ...]:
    """The keys of a consultation in machine output, in order: the listing's (the patient's email only when
    asked, after patient_ref), then with `document` the detail document's own (`status ID --json`)."""
    wanted: tuple[Machine, ...] = ("listing", "document") if document else ("listing",)
    names = [
        field.name
        for use in wanted
        for field in CONSULTATION_FIELDS
        if field.machine == use and (show_email or field.kind != "email")
    ]
    return tuple(names)


PRACTITIONER_FIELDS: tuple[Field, ...] = (
    Field("rpps", "id", writable=False),
    Field("name", "free_text"),
    Field("email", "text"),
    Field("account_id", "text"),
    Field("link_method", "text"),
    Field("linked_at", "time"),
    Field("default_max_cents", "cents"),
    Field("livemode", "bool"),
    Field("lang", "text"),
    Field("disconnected_at", "time"),
    Field("created_at", "time", writable=False),
    Field("updated_at", "time", writable=False),
)
WRITABLE_PRACTITIONER_FIELDS = {field.name: field for field in PRACTITIONER_FIELDS if field.writable}


def _flags(fields: tuple[Field, ...]) -> tuple[int, ...]:
    return tuple(index for index, field in enumerate(fields) if field.kind == "bool")


def _with_bools(values: list[Any], flags: tuple[int, ...]) -> list[Any]:
    """A record's constructor arguments, in its fields' order: flags (0/1 on both backends) become bools."""
    for index in flags:
        if values[index] is not None:
            values[index] = bool(values[index])
    return values


_CONSULTATION_NAMES = tuple(field.name for field in CONSULTATION_FIELDS)
_CONSULTATION_FLAGS = _flags(CONSULTATION_FIELDS)
_PRACTITIONER_NAMES = tuple(field.name for field in PRACTITIONER_FIELDS)
_PRACTITIONER_FLAGS = _flags(PRACTITIONER_FIELDS)


@dataclass(frozen=True, slots=True)
class Consultation:
    """One consultation as the ledger holds it (fields: CONSULTATION_FIELDS, in the same order)."""

    id: str
    rpps: str
    scheduled_at: str
    state: str
    paid_online: bool
    currency: str
    max_cents: int | None
    authorised_cents: int
    captured_cents: int
    refunded_cents: int
    fee_cents: int | None
    net_cents: int | None
    capture_before: int | None
    checkout_session_id: str | None
    payment_intent_id: str | None
    patient_ref: str | None
    patient_email: str | None
    updated_at: str
    account_id: str | None
    charge_id: str | None
    link_expires_at: int | None
    created_at: str
    stripe_synced_at: str | None
    closed_on_purpose: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Consultation:
        """The record of a row read by name (a mapping of column to value, either backend)."""
        return cls(*_with_bools([row[name] for name in _CONSULTATION_NAMES], _CONSULTATION_FLAGS))

    @classmethod
    def reader(cls, columns: Sequence[str]) -> Callable[[Sequence[Any]], Consultation]:
        """from_row for the rows of one cursor whose columns are `columns`, their positions looked up once: how
        a whole ledger is streamed (`status --limit 0`)."""
        positions = [list(columns).index(name) for name in _CONSULTATION_NAMES]

        def read(row: Sequence[Any]) -> Consultation:
            return cls(*_with_bools([row[position] for position in positions], _CONSULTATION_FLAGS))

        return read

    def value(self, name: str) -> Any:
        """The value of the field `name` (a name from CONSULTATION_FIELDS)."""
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A practitioner (RPPS) and their Stripe account, as the ledger holds them (fields: PRACTITIONER_FIELDS)."""

    rpps: str
    name: str | None
    email: str | None
    account_id: str | None
    link_method: str | None
    linked_at: str | None
    default_max_cents: int
    livemode: bool
    lang: str | None
    disconnected_at: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Practitioner:
        return cls(*_with_bools([row[name] for name in _PRACTITIONER_NAMES], _PRACTITIONER_FLAGS))


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A line of a consultation's timeline: a change of state, a note, or both."""

    at: str
    state: str | None
    note: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> HistoryEntry:
        return cls(at=row["at"], state=row["state"], note=row["note"])


# The keys of an audit entry in machine output (`sarapay log --json`), in this order: AuditEntry's fields.
AUDIT_FIELDS: tuple[str, ...] = ("id", "at", "actor", "command", "target", "outcome", "detail", "stripe_request_id")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A line of the audit log: who ran which command on what, and how it ended (fields: AUDIT_FIELDS)."""

    id: int
    at: str
    actor: str
    command: str
    target: str | None
    outcome: str
    detail: str | None
    stripe_request_id: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEntry:
        return cls(**{name: row[name] for name in AUDIT_FIELDS})


@dataclass(frozen=True, slots=True)
class Totals:
    """The count and the sums of consultations (one per SUMMED_FIELDS, of the same name): overall, with the
    same per state in `by_state` (in code order; each without a `by_state` of its own)."""

    count: int
    authorised_cents: int
    captured_cents: int
    refunded_cents: int
    fee_cents: int
    net_cents: int
    by_state: Mapping[str, Totals] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, count: int, sums: Mapping[str, int], by_state: Mapping[str, Totals] | None = None) -> Totals:
        """From the sums by field name (one per SUMMED_FIELDS)."""
        return cls(
            count=count, authorised_cents=sums["authorised_cents"], captured_cents=sums["captured_cents"],
            refunded_cents=sums["refunded_cents"], fee_cents=sums["fee_cents"], net_cents=sums["net_cents"],
            by_state=by_state or {},
        )

    def sum(self, name: str) -> int:
        """The sum of the summed field `name` (a name from SUMMED_FIELDS)."""
        value: int = getattr(self, name)
        return value

