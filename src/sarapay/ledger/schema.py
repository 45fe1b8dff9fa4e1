"""The ledger's schema as named, transactional steps (sqlite_utils.Migrations, recorded in `_sqlite_migrations`).

Rules for this file:
- a step, once released, is never edited: change the schema with a new step appended at the end;
- every step is plain DDL and runs inside the transaction `open_ledger` holds (BEGIN IMMEDIATE), so two
  terminals opening a fresh ledger at once cannot both apply it;
- there is no column for card data and there never will be: Stripe holds the card, we hold Stripe ids;
- a step is written once, in SQLite's DDL through `db.execute(...)`: on PostgreSQL the same function runs
  with ledger/postgres.py translating each statement (types, CHECKs, GLOB, keys), and is recorded in
  `_sarapay_migrations`. Keep to plain DDL (no sqlite_utils table API) so both backends take it;
  tests/ledger applies every step on both.

Importing this module does not import sqlite_utils: opening an up-to-date ledger (every command but the
first) only compares STEPS with `_sqlite_migrations`; `migration_set()` builds the sqlite_utils.Migrations
when a step is pending. sqlite_utils and what it pulls in (click, pluggy, dateutil) cost more start-up
than the rest of `sarapay status` on an empty ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

MIGRATION_SET = "sarapay"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite_utils.Migrations' own table: (id, migration_set, name, applied_at)

STEPS: list[str] = []  # the step names this version knows, in order
_FUNCTIONS: list[Callable[[Any], None]] = []
_migrations: Migrations | None = None


def step(name: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    def register(func: Callable[[Any], None]) -> Callable[[Any], None]:
        if name in STEPS:
            raise ValueError(f"schema step {name!r} registered twice")
        STEPS.append(name)
        _FUNCTIONS.append(func)
        return func

    return register


def function_of(name: str) -> Callable[[Any], None]:
    """The step's function: it receives an object with `execute(sql)` (a sqlite_utils Database on SQLite,
    ledger.postgres.SchemaTarget on PostgreSQL, which runs the same DDL translated)."""
    return _FUNCTIONS[STEPS.index(name)]


def migration_set() -> Migrations:
    """The steps as a sqlite_utils.Migrations (imported here, only when needed)."""
    global _migrations
    if _migrations is None:
        from sqlite_utils import Migrations

        built = Migrations(MIGRATION_SET)
        for name, func in zip(STEPS, _FUNCTIONS):
            built(name=name)(func)
        _migrations = built
    return _migrations


def __getattr__(name: str) -> Any:
    if name == "migrations":  # the historical module attribute
        return migration_set()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The tables every step together creates; open_ledger checks they are all there after migrating.
TABLES: tuple[str, ...] = (
    "meta", "practitioners", "consultations", "consultation_history", "oauth_states", "audit_log", "money_moves",
    "reminders_sent",
    "disputes",
    "webhook_events",
)


def _ddl(db: Database, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


# Money columns are integer cents; the CHECKs refuse a float (typeof 'real') even if a caller slips one in.
@step("0001_meta")
def _meta(db: Database) -> None:
    _ddl(
        db,
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        )""",
        # Says whose file this is, for a human opening it with the sqlite3 shell.
        "INSERT INTO meta (key, value) VALUES ('application', 'sarapay ledger')",
    )


@step("0002_practitioners")
def _practitioners(db: Database) -> None:
    _ddl(
        db,
        """CREATE TABLE practitioners (
            rpps TEXT PRIMARY KEY CHECK (length(rpps) = 11 AND rpps NOT GLOB '*[^0-9]*'),
            name TEXT,
            email TEXT,
            account_id TEXT UNIQUE,
            link_method TEXT CHECK (link_method IN ('oauth', 'created', 'attached')),
            linked_at TEXT,
            -- 2500 is money.DEFAULT_MAX when this step was written; the ledger always writes the value itself.
            default_max_cents INTEGER NOT NULL DEFAULT 2500
                CHECK (typeof(default_max_cents) = 'integer' AND default_max_cents > 0),
            livemode INTEGER NOT NULL DEFAULT 0 CHECK (livemode IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    )


@step("0003_consultations")
def _consultations(db: Database) -> None:
    def cents(column: str, *, not_null: bool, signed: bool = False) -> str:
        floor = "" if signed else f" AND {column} >= 0"
        if not_null:
            return f"{column} INTEGER NOT NULL DEFAULT 0 CHECK (typeof({column}) = 'integer'{floor})"
        return f"{column} INTEGER CHECK ({column} IS NULL OR (typeof({column}) = 'integer'{floor}))"

    _ddl(
        db,
        f"""CREATE TABLE consultations (
            id TEXT PRIMARY KEY CHECK (id GLOB 'TC-?*'),
            rpps TEXT NOT NULL REFERENCES practitioners (rpps),
            scheduled_at TEXT NOT NULL,
            paid_online INTEGER NOT NULL DEFAULT 0 CHECK (paid_online IN (0, 1)),
            {cents("max_cents", not_null=False)},
            currency TEXT NOT NULL DEFAULT 'eur',
            patient_ref TEXT,
            patient_email TEXT,
            account_id TEXT,
            checkout_session_id TEXT,
            payment_intent_id TEXT,
            charge_id TEXT,
            state TEXT NOT NULL CHECK (state <> ''),
            {cents("authorised_cents", not_null=True)},
            {cents("captured_cents", not_null=True)},
            {cents("refunded_cents", not_null=True)},
            {cents("fee_cents", not_null=False)},
            {cents("net_cents", not_null=False, signed=True)},
            capture_before INTEGER,
            link_expires_at INTEGER,
            closed_on_purpose INTEGER NOT NULL DEFAULT 0 CHECK (closed_on_purpose IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            stripe_synced_at TEXT
        )""",
        """CREATE TABLE consultation_history (
            id INTEGER PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            state TEXT,
            note TEXT
        )""",
        "CREATE INDEX idx_history_consultation ON consultation_history (consultation_id, id)",
    )


@step("0004_oauth_states")
def _oauth_states(db: Database) -> None:
    # No foreign key to practitioners: the practitioner row may only be written when the link completes.
    _ddl(
        db,
        """CREATE TABLE oauth_states (
            state TEXT PRIMARY KEY,
            rpps TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )""",
    )


@step("0005_audit_log")
def _audit_log(db: Database) -> None:
    _ddl(
        db,
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            command TEXT NOT NULL,
            target TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'error', 'dry_run', 'cancelled')),
            detail TEXT,
            stripe_request_id TEXT
        )""",
    )


@step("0006_status_indexes")
def _status_indexes(db: Database) -> None:
    _ddl(
        db,
        "CREATE INDEX idx_consultations_rpps_state_at ON consultations (rpps, state, scheduled_at)",
        "CREATE INDEX idx_consultations_state_at ON consultations (state, scheduled_at)",
        "CREATE INDEX idx_consultations_at ON consultations (scheduled_at)",
        # Unique: one Stripe object belongs to one consultation; a rebuild that says otherwise is a bug.
        "CREATE UNIQUE INDEX idx_consultations_payment_intent ON consultations (payment_intent_id)",
        "CREATE UNIQUE INDEX idx_consultations_checkout_session ON consultations (checkout_session_id)",
    )


@step("0007_totals_covering_index")
def _totals_covering_index(db: Database) -> None:
    # `status` without filters sums every consultation per state: with the sums in the index SQLite reads
    # the index alone (100 000 consultations: 93 ms → 13 ms, benchmarks/ledger.py) instead of every row.
    _ddl(
        db,
        "CREATE INDEX idx_consultations_state_sums ON consultations "
        "(state, authorised_cents, captured_cents, refunded_cents, fee_cents, net_cents)",
    )


@step("0008_money_moves")
def _money_moves(db: Database) -> None:
    # A money move (capture, release, link closing, refund) is written here with its idempotency key *before*
    # it is sent, and marked done once Stripe's answer is recorded. While it is pending, a re-run sends that
    # same key again, so Stripe replays its first answer instead of moving the money a second time, even when
    # the consultation's amounts (which a fresh key would be built from) have changed meanwhile.
    _ddl(
        db,
        """CREATE TABLE money_moves (
            idempotency_key TEXT PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
            action TEXT NOT NULL CHECK (action IN ('capture', 'cancel', 'close_link', 'refund', 'replace_link')),
            amount_cents INTEGER NOT NULL CHECK (typeof(amount_cents) = 'integer' AND amount_cents >= 0),
            state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'refused', 'settled')),
            created_at TEXT NOT NULL,
            finished_at TEXT,
            stripe_object_id TEXT
        )""",
        "CREATE INDEX idx_money_moves_consultation ON money_moves (consultation_id, state)",
    )


@step("0009_reminders")
def _reminders(db: Database) -> None:
    # `remind` emails each practitioner their holds (and disputes) whose deadline is near. A row is written only
    # once the mail server accepted the message, and the unique key makes "once per item and deadline" hold for
    # an hourly cron: a hold whose deadline moves (a new authorisation) is a new row. `lang` is the
    # practitioner's language for those emails (NULL: French, the default).
    _ddl(
        db,
        "ALTER TABLE practitioners ADD COLUMN lang TEXT CHECK (lang IS NULL OR lang IN ('fr', 'en'))",
        """CREATE TABLE reminders_sent (
            id INTEGER PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('hold', 'dispute')),
            deadline INTEGER NOT NULL CHECK (typeof(deadline) = 'integer'),
            rpps TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            message_id TEXT,
            UNIQUE (consultation_id, kind, deadline)
        )""",
        "CREATE INDEX idx_reminders_sent_rpps ON reminders_sent (rpps, sent_at)",
    )


@step("0010_disputes")
def _disputes(db: Database) -> None:
    # One row per Stripe dispute of a consultation's charge, as Stripe last said it: the amount the bank took
    # back, Stripe's dispute fee and the net of the dispute's balance transactions (withdrawal, reinstatement),
    # the reason and status codes, the answer deadline (Stripe's unix time, like capture_before).
    # `first_seen_at` (our clock) tells reconcile which disputes it has not reported yet.
    _ddl(
        db,
        """CREATE TABLE disputes (
            id TEXT PRIMARY KEY CHECK (id GLOB 'dp_?*' OR id GLOB 'du_?*'),
            consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
            account_id TEXT NOT NULL,
            charge_id TEXT,
            payment_intent_id TEXT,
            amount_cents INTEGER NOT NULL CHECK (typeof(amount_cents) = 'integer' AND amount_cents >= 0),
            fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (typeof(fee_cents) = 'integer'),
            net_cents INTEGER NOT NULL DEFAULT 0 CHECK (typeof(net_cents) = 'integer'),
            currency TEXT NOT NULL DEFAULT 'eur',
            reason TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status <> ''),
            due_by INTEGER,
            created INTEGER NOT NULL,
            livemode INTEGER NOT NULL DEFAULT 0 CHECK (livemode IN (0, 1)),
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX idx_disputes_consultation ON disputes (consultation_id, created)",
        "CREATE INDEX idx_disputes_status_due ON disputes (status, due_by)",
        "CREATE INDEX idx_disputes_account_created ON disputes (account_id, created)",
    )


@step("0011_webhook_events")
def _webhook_events(db: Database) -> None:
    # Every Stripe event the receiver (`webhooks serve`) accepted, recorded in the same transaction as what
    # it changed: an event id is applied once, however often Stripe delivers it. `fetched_at` is Stripe's
    # time when the receiver read the consultation's objects for it: an event created before the latest such
    # read is already reflected in the ledger. A practitioner who disconnected the platform from their
    # dashboard (account.application.deauthorized) gets `disconnected_at`.
    _ddl(
        db,
        """CREATE TABLE webhook_events (
            event_id TEXT PRIMARY KEY CHECK (event_id GLOB 'evt_?*'),
            account_id TEXT,
            type TEXT NOT NULL,
            event_created INTEGER NOT NULL,
            consultation_id TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'already_known', 'ignored', 'disconnected')),
            fetched_at INTEGER,
            received_at TEXT NOT NULL
        )""",
        "CREATE INDEX idx_webhook_events_consultation ON webhook_events (consultation_id, fetched_at)",
        "ALTER TABLE practitioners ADD COLUMN disconnected_at TEXT",
    )


# Later steps live in modules of their own, registered here in order (they import nothing of this module).
from sarapay.ledger import schema_scale  # noqa: E402

step("0012_status_at_scale")(schema_scale.status_at_scale)

# Derived tables (kept by triggers from consultations): checked like the others, never copied by `ledger copy`.
DERIVED_TABLES: tuple[str, ...] = schema_scale.DERIVED_TABLES
TABLES = (*TABLES, *DERIVED_TABLES)
