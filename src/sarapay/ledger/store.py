"""`open_ledger` and the `Ledger`: every query sarapay makes, behind plain-named methods.

The ledger is a local, rebuildable copy of Stripe's state (Stripe is the system of record). Conventions:
- times are ISO 8601 UTC text `2026-01-05T13:07:00Z` (callers pass aware datetimes or ISO strings with an
  offset; a naive time is refused, because guessing Paris or UTC is how a payment lands on the wrong day),
  except `capture_before` and `link_expires_at`, which are Stripe's own unix timestamps, kept as integers;
- money is integer cents, never float (a float is refused here and by the schema's CHECKs);
- consultations, practitioners, history lines, audit entries and totals come back as the frozen records of
  sarapay/records.py, built from a row in one place (`Consultation.from_row`...) for both backends, whose
  field tables also say what a write may set and how each value is checked (`_prepare`); flags come back
  as bools; other tables (money moves, disputes, reminders, webhook events) as dicts;
- a getter returns None for an unknown id; a mutator raises BadInput for one;
- every write runs under BEGIN IMMEDIATE: the write lock is taken before anything is read, so a
  read-check-write (`update_if_state`, `consume_oauth_state`) cannot race another terminal or a cron job.
"""

from __future__ import annotations

import functools
import getpass
import heapq
import itertools
import os
import re
import secrets
import sqlite3
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from sarapay import i18n, money, rpps as rpps_rules, statuses, timefmt
from sarapay.errors import BadInput, ConfigError
from sarapay.ledger import files
from sarapay.records import (
    CONSULTATION_FIELDS,
    PRACTITIONER_FIELDS,
    SUMMED_FIELDS,
    WRITABLE_CONSULTATION_FIELDS,
    WRITABLE_PRACTITIONER_FIELDS,
    AuditEntry,
    Consultation,
    Field,
    HistoryEntry,
    Practitioner,
    Totals,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

i18n.register(
    {
        "ledger.unknown_consultation": {
            "fr": "Consultation inconnue dans le registre : {consultation_id}.",
            "en": "Unknown consultation in the ledger: {consultation_id}.",
        },
        "ledger.duplicate_consultation": {
            "fr": "La consultation {consultation_id} existe déjà dans le registre.",
            "en": "The consultation {consultation_id} already exists in the ledger.",
        },
        "ledger.n_consultations": {"fr": "{n} consultation|{n} consultations", "en": "{n} consultation|{n} consultations"},
        "ledger.unknown_practitioner": {
            "fr": "Aucun praticien enregistré avec le RPPS {rpps}.",
            "en": "No practitioner registered with RPPS {rpps}.",
        },
        "ledger.account_taken": {
            "fr": "Le compte Stripe {account_id} est déjà lié au praticien de RPPS {other_rpps}. "
            "Déliez-le d'abord (sarapay unlink {other_rpps}).",
            "en": "The Stripe account {account_id} is already linked to the practitioner with RPPS {other_rpps}. "
            "Unlink it first (sarapay unlink {other_rpps}).",
        },
        "ledger.practitioner_has_consultations": {
            "fr": "Le praticien de RPPS {rpps} a {consultations} dans le registre : il ne peut pas en être "
            "retiré. Déliez son compte Stripe à la place (sarapay unlink {rpps}).",
            "en": "The practitioner with RPPS {rpps} has {consultations} in the ledger and cannot be "
            "removed from it. Unlink their Stripe account instead (sarapay unlink {rpps}).",
        },
        "ledger.oauth_state_unknown": {
            "fr": "Ce paramètre state est inconnu : il ne vient pas d'un lien d'autorisation émis par sarapay "
            "sur cette machine. Générez un nouveau lien (sarapay link RPPS --email EMAIL).",
            "en": "This state parameter is unknown: it does not come from an authorisation link issued by "
            "sarapay on this machine. Generate a new link (sarapay link RPPS --email EMAIL).",
        },
        "ledger.oauth_state_used": {
            "fr": "Ce paramètre state a déjà servi : un lien d'autorisation ne s'utilise qu'une fois. "
            "Générez un nouveau lien (sarapay link RPPS --email EMAIL).",
            "en": "This state parameter has already been used: an authorisation link works only once. "
            "Generate a new link (sarapay link RPPS --email EMAIL).",
        },
        "ledger.oauth_state_expired": {
            "fr": "Ce lien d'autorisation a expiré le {expires_at} (UTC). Générez-en un nouveau "
            "(sarapay link RPPS --email EMAIL).",
            "en": "This authorisation link expired on {expires_at} (UTC). Generate a new one "
            "(sarapay link RPPS --email EMAIL).",
        },
        "ledger.oauth_state_mismatch": {
            "fr": "Ce paramètre state a été émis pour un autre praticien que le RPPS {rpps}. "
            "Vérifiez le RPPS, ou générez un nouveau lien pour ce praticien.",
            "en": "This state parameter was issued for a practitioner other than RPPS {rpps}. "
            "Check the RPPS, or generate a new link for this practitioner.",
        },
        "ledger.backup_exists": {
            "fr": "Le fichier {path} existe déjà et n'est pas vide : la sauvegarde ne l'écrasera pas. "
            "Choisissez un autre nom.",
            "en": "The file {path} already exists and is not empty: the backup will not overwrite it. "
            "Choose another name.",
        },
        "ledger.card_number_refused": {
            "fr": "Ce texte contient ce qui ressemble à un numéro de carte bancaire : sarapay n'enregistre jamais "
            "de données de carte. Retirez-le et recommencez.",
            "en": "This text contains what looks like a card number: sarapay never stores card data. "
            "Remove it and try again.",
        },
        "ledger.backup_postgres": {
            "fr": "Le registre est sur PostgreSQL : copiez-le dans un fichier avec « sarapay ledger copy --to {path} ».",
            "en": "The ledger is on PostgreSQL: copy it to a file with `sarapay ledger copy --to {path}`.",
        },
        "ledger.copy_not_empty": {
            "fr": "Le registre cible {target} n'est pas vide : la copie ne l'écrasera pas. Donnez un registre neuf "
            "(une base PostgreSQL vide, ou un fichier qui n'existe pas encore).",
            "en": "The target ledger {target} is not empty: the copy will not overwrite it. Give a new ledger "
            "(an empty PostgreSQL database, or a file that does not exist yet).",
        },
        "ledger.copy_schema": {
            "fr": "Le registre cible {target} n'a pas la même table {table} que la source : mettez sarapay à jour "
            "sur les deux. Rien n'a été copié.",
            "en": "The target ledger {target} does not have the same table {table} as the source: upgrade sarapay "
            "on both. Nothing was copied.",
        },
        "ledger.copy_mismatch": {
            "fr": "La vérification de la copie vers {target} a échoué (table {table}) : rien n'a été copié.",
            "en": "Verifying the copy into {target} failed (table {table}): nothing was copied.",
        },
        "ledger.secret_refused": {
            "fr": "Ce texte contient ce qui ressemble à une clé secrète Stripe : elle ne sera pas enregistrée. "
            "Retirez-la, et si elle a circulé, faites-la renouveler dans le tableau de bord Stripe.",
            "en": "This text contains what looks like a Stripe secret key: it will not be stored. "
            "Remove it, and if it was shared, roll it in the Stripe dashboard.",
        },
    }
)

_F = TypeVar("_F", bound=Callable[..., Any])
_R = TypeVar("_R")

DEFAULT_BUSY_TIMEOUT_MS = 5000
DEFAULT_OAUTH_STATE_TTL = timedelta(hours=1)  # the OAuth flow may include creating a whole Stripe account
OAUTH_STATE_PURGE_AFTER = timedelta(days=7)  # old states are deleted; until then "used"/"expired" stay precise
AUDIT_OUTCOMES = ("ok", "refused", "error", "dry_run", "cancelled")
LINK_METHODS = ("oauth", "created", "attached")
# Consultations whose Stripe state can still move without sarapay acting on them: reconcile refreshes these.
NON_FINAL_STATES = tuple(code for code in statuses.CODES if code not in statuses.FINAL_STATES)

LANGS = ("fr", "en")  # a practitioner's language for the emails sarapay sends them (schema step 0009)
REMINDER_KINDS = ("hold", "dispute")
_DISPUTE_FIELDS = {
    field.name: field
    for field in (
        Field("consultation_id", "id"), Field("account_id", "text"), Field("charge_id", "text"),
        Field("payment_intent_id", "text"), Field("amount_cents", "cents"), Field("fee_cents", "cents"),
        Field("net_cents", "signed_cents"), Field("currency", "currency"), Field("reason", "text"),
        Field("status", "text"), Field("due_by", "unix"), Field("created", "unix"), Field("livemode", "bool"),
    )
}
# Flags are stored as 0/1 (both backends) and come back as bools.
_BOOLS = frozenset(
    field.name for table in (CONSULTATION_FIELDS, PRACTITIONER_FIELDS, tuple(_DISPUTE_FIELDS.values()))
    for field in table if field.kind == "bool"
)
# States in which the amount once authorised is no longer held: left out of the "Autorisé" totals.
_NOTHING_HELD = frozenset({statuses.EXPIRED, statuses.CANCELED})
# Shell completion of consultation ids (Ledger.consultation_ids_starting): at most this many index entries read.
COMPLETION_EXACT = 1000
COMPLETION_WINDOW = 5000


# --- values -----------------------------------------------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(value: datetime | str | int) -> str:
    """The ledger's time format (timefmt.iso_utc's), from an aware datetime, a unix time, or an ISO 8601
    string with an offset or Z. A naive time is refused (ValueError)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return timefmt.iso_utc(value)


_SECRET_KEY = re.compile(r"\b(?:[sr]k_(?:live|test)_|whsec_)[0-9A-Za-z]{4,}")
_CARD_LIKE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def refuse_sensitive(text: str | None) -> None:
    """Refuse free text holding a card number (13-19 digits passing Luhn) or a Stripe secret key."""
    if not text:
        return
    if _SECRET_KEY.search(text):
        raise BadInput("ledger.secret_refused")
    for match in _CARD_LIKE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if rpps_rules.luhn_key(digits[:-1]) == digits[-1]:  # the same Luhn as RPPS keys and card numbers
            raise BadInput("ledger.card_number_refused")


def _prepare(fields: Mapping[str, Any], allowed: Mapping[str, Field], table: str) -> dict[str, Any]:
    """The values to write, each checked against its field's kind (records.Field): cents and unix times are
    ints (cents non-negative unless signed), times become the ledger's ISO UTC text, flags 0/1, text is str
    (free text refused when it holds a card number or a secret key). A field not in `allowed` is a bug."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{table} has no field {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        kind = allowed[name].kind
        if value is None:
            values[name] = None
        elif kind in ("cents", "signed_cents", "unix"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int (cents or unix time), got {type(value).__name__}")
            if kind == "cents" and value < 0:
                raise ValueError(f"{name} cannot be negative: {value}")
            values[name] = value
        elif kind == "time":
            values[name] = iso_utc(value)
        elif kind == "bool":
            values[name] = int(bool(value))
        else:
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
            if kind == "free_text":
                refuse_sensitive(value)
            values[name] = value
    if values.get("lang") not in (None, *LANGS):
        raise ValueError(f"lang must be one of {LANGS}")
    if values.get("link_method") not in (None, *LINK_METHODS):
        raise ValueError(f"link_method must be one of {LINK_METHODS}")
    if "state" in values and allowed["state"].kind == "state" and values["state"] not in statuses.CODES:
        raise ValueError(f"unknown state {values['state']!r}: one of {statuses.CODES}")
    return values


def _as_dict(cursor: Any, row: tuple[Any, ...]) -> dict[str, Any]:
    record = {column[0]: value for column, value in zip(cursor.description, row)}
    for name in _BOOLS.intersection(record):
        if record[name] is not None:
            record[name] = bool(record[name])
    return record


def _consultation(row: Mapping[str, Any] | None) -> Consultation | None:
    return None if row is None else Consultation.from_row(row)


def _practitioner(row: Mapping[str, Any] | None) -> Practitioner | None:
    return None if row is None else Practitioner.from_row(row)


def _states(state: str | Iterable[str]) -> list[str]:
    return [state] if isinstance(state, str) else list(state)


def _bucket_start(key: str) -> str:
    """The first moment of a summary bucket, in the ledger's time format: a UTC day `2026-12-01` or month `2026-12`."""
    return f"{key}T00:00:00Z" if len(key) == 10 else f"{key}-01T00:00:00Z"


def _next_bucket(key: str) -> str:
    """The bucket after `key` (the next UTC day or month)."""
    if len(key) == 10:
        return (datetime.fromisoformat(key) + timedelta(days=1)).strftime("%Y-%m-%d")
    year, month = int(key[:4]), int(key[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _guarded(method: _F) -> _F:
    """SQLite's errors about the file become sarapay's ConfigError; anything else (a bug) goes through."""

    @functools.wraps(method)
    def wrapper(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = files.translate(exc, self._file, self.busy_timeout_ms)
            if error is exc:
                raise
            raise error from exc

    return cast(_F, wrapper)


# --- opening ----------------------------------------------------------------------------------------------


def open_ledger(
    path: Path | str, *, read_only: bool = False, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    connect_timeout: int = 10,
) -> Ledger:
    """Open (creating it 0600 if needed) and migrate the ledger at `path`, a SQLite file's path or a
    PostgreSQL URL (`postgresql://user@host:port/db`, see ledger/postgres.py).

    `read_only=True` opens an existing ledger without writing anything (no migration, no WAL switch);
    a file the user cannot write is opened that way automatically, and any write then raises
    ConfigError("ledger.read_only"). Every problem with the file or the server is a ConfigError (exit 4)
    naming it (a URL always masked).
    SQLite opens are serialised within the process (files.OPENING): one thread's header check must not drop
    the locks of a connection another thread is opening (see files._IN_USE).
    """
    if _is_url(path):
        return _open_postgres(str(path), read_only=read_only, busy_timeout_ms=busy_timeout_ms,
                              connect_timeout=connect_timeout)
    with files.OPENING:
        return _open_ledger(path, read_only=read_only, busy_timeout_ms=busy_timeout_ms)


def _open_ledger(path: Path | str, *, read_only: bool, busy_timeout_ms: int) -> Ledger:
    path = Path(path).expanduser()
    if path.is_dir():
        raise files.unreadable(path, "is a directory")
    chosen_read_only = read_only
    existing = False
    if read_only:
        if not path.exists():
            raise ConfigError("ledger.missing", path=str(path))
        existing = True
    else:
        existing = not files.create_private(path)
        read_only = existing and not os.access(path, os.W_OK)
    files.check_header(path)

    conn: sqlite3.Connection | None = None
    try:
        if read_only:
            uri = path.resolve().as_uri() + "?mode=ro"
            if files.on_read_only_file_system(path):
                # SQLite cannot create the WAL's -shm there, and no one can write the file either: read it as
                # an immutable file, so `status` still works; any write then says "read-only" (exit 4).
                uri += "&immutable=1"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout_ms / 1000)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_ms / 1000)
        ledger = Ledger(conn, path, read_only=read_only, busy_timeout_ms=busy_timeout_ms)
        ledger._prepare_schema(upgrade_refused_key="ledger.needs_upgrade" if chosen_read_only else "ledger.read_only")
        if existing and not chosen_read_only:
            files.tighten(path)  # only once the file is known to be ours: a foreign file is left as it was
        ledger._file_key = files.opened(path)
        return ledger
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        error = files.translate(exc, path, busy_timeout_ms)
        raise (files.damaged(path, str(exc)) if error is exc else error) from exc
    except BaseException:
        if conn is not None:
            conn.close()
        raise


def _is_url(target: Path | str) -> bool:
    # Cheap test first: importing ledger.postgres is not needed to open a SQLite file.
    return isinstance(target, str) and "://" in target and target.split("://", 1)[0].lower() in ("postgresql", "postgres")


def _open_postgres(url: str, *, read_only: bool, busy_timeout_ms: int, connect_timeout: int) -> Ledger:
    from sarapay.ledger import postgres

    conn = postgres.connect(url, read_only=read_only, busy_timeout_ms=busy_timeout_ms, connect_timeout=connect_timeout)
    try:
        ledger = Ledger(conn, None, read_only=read_only, busy_timeout_ms=busy_timeout_ms, location=conn.location)
        ledger._prepare_schema(upgrade_refused_key="ledger.needs_upgrade")
        return ledger
    except BaseException:
        conn.close()
        raise


def inspect_ledger(target: Path | str) -> dict[str, Any]:
    """What `sarapay ledger check` reports, without creating or upgrading anything: the backend, where it is
    (a URL masked), the schema steps applied and pending. A schema newer than this sarapay raises (exit 4)."""
    from sarapay.ledger import schema

    if _is_url(target):
        from sarapay.ledger import postgres

        conn = postgres.connect(str(target), read_only=True)
        try:
            ledger = Ledger(conn, None, read_only=True, busy_timeout_ms=DEFAULT_BUSY_TIMEOUT_MS, location=conn.location)
            applied = ledger._applied_names()
            server = conn._raw.info.server_version
            info = {"backend": "postgresql", "location": conn.location,
                    "server_version": postgres._version_text(server), "exists": True}
        finally:
            conn.close()
    else:
        path = Path(target).expanduser()
        info = {"backend": "sqlite", "location": str(path), "server_version": sqlite3.sqlite_version,
                "exists": path.exists() and path.stat().st_size > 0}
        if info["exists"]:
            with open_ledger(path, read_only=True) as ledger:  # refuses a newer schema (it only lacks nothing)
                applied = ledger._applied_names()
        else:
            applied = []
    unknown = [name for name in applied if name not in schema.STEPS]
    if unknown:
        key = "ledger.pg_newer_schema" if info["backend"] == "postgresql" else "ledger.newer_schema"
        raise ConfigError(key, url=info["location"], path=info["location"], steps=", ".join(unknown[:5]))
    info.update(
        schema_version=applied[-1] if applied else None,
        applied=applied,
        pending=[name for name in schema.STEPS if name not in applied],
        latest=schema.STEPS[-1],
    )
    return info


# Up to this many audit entries are read in one query; more are streamed (flat memory).
AUDIT_PAGE = 500


def _equal_to(**columns: str | None) -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b = ?` for the columns given a value (None: not filtered), and their parameters.
    Column names come from the keyword names in this module, never from a caller's text."""
    given = {name: value for name, value in columns.items() if value is not None}
    where = " WHERE " + " AND ".join(f"{name} = ?" for name in given) if given else ""
    return where, list(given.values())


# --- the ledger -------------------------------------------------------------------------------------------


class Ledger:
    """One connection to the ledger (a SQLite file, or a PostgreSQL database through ledger/postgres.py's
    PgConnection, which runs the same SQL). Not shared between threads: open one Ledger per thread."""

    def __init__(
        self, conn: Any, path: Path | None, *, read_only: bool, busy_timeout_ms: int, location: str | None = None
    ) -> None:
        self.path = path  # the SQLite file; None on PostgreSQL
        self.location = location or str(path)  # what messages name: the file, or the masked URL
        self.backend = getattr(conn, "backend", "sqlite")
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        self._conn = conn
        self._file_key: tuple[int, int] | None = None  # files.opened(): this process has the file open
        self._database: Database | None = None
        if self.backend == "sqlite":
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")

    @property
    def _file(self) -> Path:
        """What SQLite's errors name: the file (on PostgreSQL, whose errors are not SQLite's, the location)."""
        return self.path if self.path is not None else Path(self.location)

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @property
    def _db(self) -> Database:
        """sqlite_utils over the same connection, built only to migrate (importing it costs start-up time)."""
        if self._database is None:
            from sqlite_utils import Database

            # Plugins could change the connection; the ledger wants exactly what it configured.
            self._database = Database(self._conn, recursive_triggers=False, execute_plugins=False)
        return self._database

    def _applied_names(self, tables: set[str] | None = None) -> list[str]:
        """The schema steps recorded in `_sqlite_migrations` (sqlite_utils.Migrations' table), in order."""
        from sarapay.ledger import schema

        if self.is_postgres:
            from sarapay.ledger.postgres import MIGRATIONS_TABLE

            if MIGRATIONS_TABLE not in (self._table_names() if tables is None else tables):
                return []
            rows = self._conn.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id", (schema.MIGRATION_SET,)
            )
            return [name for (name,) in rows]
        if schema.MIGRATIONS_TABLE not in (self._table_names() if tables is None else tables):
            return []
        rows = self._conn.execute(
            f"SELECT name FROM {schema.MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid", (schema.MIGRATION_SET,)
        )
        return [name for (name,) in rows]

    def _prepare_schema(self, *, upgrade_refused_key: str) -> None:
        from sarapay.ledger import schema

        if self.is_postgres:
            self._prepare_postgres_schema(upgrade_refused_key=upgrade_refused_key)
            return
        tables = self._table_names()
        applied = self._applied_names(tables)
        if tables and not applied:
            strangers = sorted(tables - set(schema.TABLES) - {"_sqlite_migrations"}) or sorted(tables)
            raise ConfigError("ledger.foreign", path=str(self.path), tables=", ".join(strangers[:5]))
        unknown = [name for name in applied if name not in schema.STEPS]
        if unknown:
            raise ConfigError("ledger.newer_schema", path=str(self.path), steps=", ".join(unknown[:5]))
        pending = [name for name in schema.STEPS if name not in applied]
        if self.read_only:
            if pending:
                raise ConfigError(upgrade_refused_key, path=str(self.path))
        else:
            # WAL: readers never wait for the writer, so `status` in one terminal does not block `capture`.
            (mode,) = self._conn.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                self._conn.execute("PRAGMA journal_mode = wal")
            if pending:
                with self.transaction():  # two processes opening a fresh ledger: one migrates, one waits
                    schema.migration_set().apply(self._db)
        missing = set(schema.TABLES) - self._table_names()
        if missing:
            raise files.damaged(self._file, f"missing tables: {', '.join(sorted(missing))}")

    def _prepare_postgres_schema(self, *, upgrade_refused_key: str) -> None:
        """As for SQLite: refuse a database that is not a sarapay ledger or was upgraded by a newer sarapay,
        apply the pending steps in one transaction under the write lock (two machines starting at once: one
        migrates, the other waits then finds nothing left to do)."""
        from sarapay.ledger import postgres, schema

        def check(applied: list[str], tables: set[str]) -> list[str]:
            if not applied and tables & set(schema.TABLES):
                raise ConfigError("ledger.pg_foreign", url=self.location,
                                  tables=", ".join(sorted(tables & set(schema.TABLES))[:5]))
            unknown = [name for name in applied if name not in schema.STEPS]
            if unknown:
                raise ConfigError("ledger.pg_newer_schema", url=self.location, steps=", ".join(unknown[:5]))
            return [name for name in schema.STEPS if name not in applied]

        if self._conn.applied_steps(schema.MIGRATION_SET) == schema.STEPS:
            return  # every command but the first after an upgrade: one query, no catalogue scan
        tables = self._table_names()
        pending = check(self._applied_names(tables), tables)
        if pending and self.read_only:
            raise ConfigError(upgrade_refused_key, path=self.location)
        if pending:
            with self.transaction():
                tables = self._table_names()
                pending = check(self._applied_names(tables), tables)
                self._conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {postgres.MIGRATIONS_TABLE} ("
                    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, migration_set TEXT NOT NULL,"
                    " name TEXT NOT NULL, applied_at TEXT NOT NULL, UNIQUE (migration_set, name))"
                )
                target = postgres.SchemaTarget(self._conn)
                for name in pending:
                    schema.function_of(name)(target)
                    self._conn.execute(
                        f"INSERT INTO {postgres.MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                        (schema.MIGRATION_SET, name, iso_utc(now_utc())),
                    )
        missing = set(schema.TABLES) - self._table_names()
        if missing:
            raise ConfigError("ledger.pg_foreign", url=self.location, tables=", ".join(sorted(missing)[:5]))

    def _table_names(self) -> set[str]:
        if self.is_postgres:
            names: set[str] = self._conn.table_names()
            return names
        rows = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
        return {name for (name,) in rows}

    def close(self) -> None:
        self._conn.close()
        files.closed(self._file_key)
        self._file_key = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ledger {self.location!r}{' read-only' if self.read_only else ''}>"

    @_guarded
    def applied_steps(self) -> list[str]:
        """The schema steps recorded in this file, in the order they were applied."""
        return self._applied_names()

    # --- transactions -------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """All writes inside commit together or not at all. The outermost block takes the write lock at once
        (BEGIN IMMEDIATE); nested blocks are savepoints."""
        conn = self._conn
        if conn.in_transaction:
            name = f"sarapay_{secrets.token_hex(4)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        if self.is_postgres:
            conn.execute("BEGIN")
            try:
                conn.lock_writes()  # what BEGIN IMMEDIATE does on SQLite: one writer at a time, from the start
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        else:
            self._sql_guard(conn.execute, "BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            self._sql_guard(conn.execute, "COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _sql_guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            error = files.translate(exc, self._file, self.busy_timeout_ms)
            if error is exc:
                raise
            raise error from exc

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        cursor = self._conn.execute(sql, tuple(params))
        row = cursor.fetchone()
        return None if row is None else _as_dict(cursor, row)

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._conn.execute(sql, tuple(params))
        return [_as_dict(cursor, row) for row in cursor]

    def _set(self, table: str, key_column: str, key: str, values: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._conn.execute(
            f"UPDATE {table} SET {assignments} WHERE {key_column} = ?", (*values.values(), key)
        )

    # --- practitioners ------------------------------------------------------------------------------------

    @_guarded
    def get_practitioner(self, rpps: str) -> Practitioner | None:
        return _practitioner(self._one("SELECT * FROM practitioners WHERE rpps = ?", (rpps,)))

    @_guarded
    def find_practitioner_by_account(self, account_id: str) -> Practitioner | None:
        return _practitioner(self._one("SELECT * FROM practitioners WHERE account_id = ?", (account_id,)))

    @_guarded
    def list_practitioners(self) -> list[Practitioner]:
        return [Practitioner.from_row(row) for row in self._all("SELECT * FROM practitioners ORDER BY rpps")]

    @_guarded
    def upsert_practitioner(self, rpps: str, **fields: Any) -> Practitioner:
        """Insert the practitioner, or update only the given fields. A Stripe account belongs to one RPPS."""
        values = _prepare(fields, WRITABLE_PRACTITIONER_FIELDS, "practitioners")
        if values.get("default_max_cents", 0) is None:
            del values["default_max_cents"]  # "no preference": keep the current one, or the default below
        if values.get("account_id"):
            values.setdefault("disconnected_at", None)  # linked (again): connected
        stamp = iso_utc(now_utc())
        with self.transaction():
            if values.get("account_id"):
                holder = self.find_practitioner_by_account(values["account_id"])
                if holder is not None and holder.rpps != rpps:
                    raise BadInput("ledger.account_taken", account_id=values["account_id"], other_rpps=holder.rpps)
            if self.get_practitioner(rpps) is None:
                values.setdefault("default_max_cents", money.DEFAULT_MAX)  # the rule lives in money.py
                row = {"rpps": rpps, **values, "created_at": stamp, "updated_at": stamp}
                self._conn.execute(
                    f"INSERT INTO practitioners ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
            elif values:
                self._set("practitioners", "rpps", rpps, {**values, "updated_at": stamp})
            return self._require_practitioner(rpps)

    @_guarded
    def set_default_max(self, rpps: str, cents: int) -> Practitioner:
        values = _prepare({"default_max_cents": cents}, WRITABLE_PRACTITIONER_FIELDS, "practitioners")
        if values["default_max_cents"] is None or values["default_max_cents"] <= 0:
            raise ValueError("default_max_cents must be a positive int")
        with self.transaction():
            self._require_practitioner(rpps)
            self._set("practitioners", "rpps", rpps, {**values, "updated_at": iso_utc(now_utc())})
            return self._require_practitioner(rpps)

    @_guarded
    def unlink_account(self, rpps: str) -> Practitioner:
        """Forget the practitioner's Stripe account locally (the caller deauthorises it on Stripe first).
        Their consultations keep the account id they were paid on."""
        with self.transaction():
            self._require_practitioner(rpps)
            self._set(
                "practitioners",
                "rpps",
                rpps,
                {"account_id": None, "link_method": None, "linked_at": None, "updated_at": iso_utc(now_utc())},
            )
            return self._require_practitioner(rpps)

    @_guarded
    def remove_practitioner(self, rpps: str) -> None:
        """Delete a practitioner who has no consultation (a mistyped RPPS, say)."""
        with self.transaction():
            self._require_practitioner(rpps)
            (count,) = self._conn.execute("SELECT count(*) FROM consultations WHERE rpps = ?", (rpps,)).fetchone()
            if count:
                raise BadInput(
                    "ledger.practitioner_has_consultations", rpps=rpps,
                    consultations=i18n.count("ledger.n_consultations", count),
                )
            self._conn.execute("DELETE FROM practitioners WHERE rpps = ?", (rpps,))

    @_guarded
    def set_practitioner_lang(self, rpps: str, lang: str | None) -> Practitioner:
        """The language of the emails sent to the practitioner (None: back to the default, French)."""
        values = _prepare({"lang": lang}, WRITABLE_PRACTITIONER_FIELDS, "practitioners")
        with self.transaction():
            self._require_practitioner(rpps)
            self._set("practitioners", "rpps", rpps, {**values, "updated_at": iso_utc(now_utc())})
            return self._require_practitioner(rpps)

    def _require_practitioner(self, rpps: str) -> Practitioner:
        row = self.get_practitioner(rpps)
        if row is None:
            raise BadInput("ledger.unknown_practitioner", rpps=rpps)
        return row

    # --- consultations ------------------------------------------------------------------------------------

    @_guarded
    def insert_consultation(
        self, consultation_id: str, *, rpps: str, scheduled_at: datetime | str, state: str,
        note: str | None = None, **fields: Any,
    ) -> Consultation:
        """Add a consultation and the first line of its history."""
        values = _prepare({"scheduled_at": scheduled_at, "state": state, **fields}, WRITABLE_CONSULTATION_FIELDS, "consultations")
        refuse_sensitive(note)
        stamp = iso_utc(now_utc())
        with self.transaction():
            self._require_practitioner(rpps)
            if self.get_consultation(consultation_id) is not None:
                raise BadInput("ledger.duplicate_consultation", consultation_id=consultation_id)
            row = {"id": consultation_id, "rpps": rpps, **values, "created_at": stamp, "updated_at": stamp}
            self._conn.execute(
                f"INSERT INTO consultations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            self._history(consultation_id, stamp, values["state"], note)
            return self._require_consultation(consultation_id)

    @_guarded
    def discard_unsent_consultation(self, consultation_id: str) -> bool:
        """Delete a consultation that never reached Stripe (no Checkout Session, no PaymentIntent), with its
        history: a plan whose Checkout Stripe refused leaves nothing behind. False, changing nothing, when
        Stripe already knows it."""
        with self.transaction():
            row = self._require_consultation(consultation_id)
            if row.checkout_session_id or row.payment_intent_id:
                return False
            self._conn.execute("DELETE FROM consultation_history WHERE consultation_id = ?", (consultation_id,))
            self._conn.execute("DELETE FROM consultations WHERE id = ?", (consultation_id,))
            return True

    @_guarded
    def find_unsent_paid_plan(
        self, rpps: str, scheduled_at: datetime, max_cents: int, patient_email: str | None, account_id: str,
        patient_ref: str | None,
    ) -> Consultation | None:
        """A consultation planned with online payment for this practitioner, time, maximum, patient and email whose
        Checkout Session was never stored (its answer was lost), or None: what a re-run of the plan resumes."""
        return _consultation(self._one(
            "SELECT * FROM consultations WHERE rpps = ? AND scheduled_at = ? AND paid_online = 1 AND state = ?"
            " AND checkout_session_id IS NULL AND payment_intent_id IS NULL AND max_cents = ? AND account_id = ?"
            " AND patient_email IS ? AND patient_ref IS ? ORDER BY created_at LIMIT 1",
            (rpps, iso_utc(scheduled_at), statuses.INCOMPLETE, max_cents, account_id, patient_email, patient_ref),
        ))

    @_guarded
    def get_consultation(self, consultation_id: str) -> Consultation | None:
        return _consultation(self._one("SELECT * FROM consultations WHERE id = ?", (consultation_id,)))

    @_guarded
    def find_by_payment_intent(self, payment_intent_id: str) -> Consultation | None:
        return _consultation(self._one("SELECT * FROM consultations WHERE payment_intent_id = ?", (payment_intent_id,)))

    @_guarded
    def find_by_checkout_session(self, checkout_session_id: str) -> Consultation | None:
        return _consultation(
            self._one("SELECT * FROM consultations WHERE checkout_session_id = ?", (checkout_session_id,))
        )

    @_guarded
    def consultation_ids_by_stripe_id(self, stripe_ids: Iterable[str]) -> dict[str, str]:
        """`{pi_… or ch_…: consultation id}` for the given PaymentIntent and charge ids the ledger knows, in
        a few queries whatever their number (payout contents and statements name hundreds at once)."""
        wanted = sorted({i for i in stripe_ids if i})
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 400):  # well under SQLite's bound on query parameters
            chunk = wanted[start:start + 400]
            marks = ", ".join("?" * len(chunk))
            rows = self._all(
                f"SELECT id, payment_intent_id, charge_id FROM consultations"
                f" WHERE payment_intent_id IN ({marks}) OR charge_id IN ({marks})",
                [*chunk, *chunk],
            )
            for row in rows:
                for key in (row["payment_intent_id"], row["charge_id"]):
                    if key:
                        found[key] = row["id"]
        asked = set(wanted)
        return {key: value for key, value in found.items() if key in asked}

    @_guarded
    def update_consultation(self, consultation_id: str, *, note: str | None = None, **fields: Any) -> Consultation:
        """Set the given fields at once. A change of state (or a note) adds a line to the history."""
        values = _prepare(fields, WRITABLE_CONSULTATION_FIELDS, "consultations")
        refuse_sensitive(note)
        with self.transaction():
            before = self._require_consultation(consultation_id)
            self._apply_update(before, values, note)
            return self._require_consultation(consultation_id)

    @_guarded
    def update_if_state(
        self, consultation_id: str, expected_states: str | Iterable[str], *, note: str | None = None, **fields: Any
    ) -> bool:
        """Compare-and-set: apply `fields` only if the consultation is still in one of `expected_states`.

        Returns False, changing nothing, when another process got there first. This is the guard that lets
        exactly one of two terminals go on to capture, cancel or refund.
        """
        expected = _states(expected_states)
        values = _prepare(fields, WRITABLE_CONSULTATION_FIELDS, "consultations")
        refuse_sensitive(note)
        with self.transaction():  # BEGIN IMMEDIATE: nobody writes between our read and our write
            before = self._require_consultation(consultation_id)
            if before.state not in expected:
                return False
            self._apply_update(before, values, note)
            return True

    def _apply_update(self, before: Consultation, values: dict[str, Any], note: str | None) -> None:
        stamp = iso_utc(now_utc())
        self._set("consultations", "id", before.id, {**values, "updated_at": stamp})
        changed_state = values.get("state") if values.get("state") not in (None, before.state) else None
        if changed_state or note:
            self._history(before.id, stamp, changed_state, note)

    def _require_consultation(self, consultation_id: str) -> Consultation:
        row = self.get_consultation(consultation_id)
        if row is None:
            raise BadInput("ledger.unknown_consultation", consultation_id=consultation_id)
        return row

    @staticmethod
    def _where(
        rpps: str | None, state: str | Iterable[str] | None, since: datetime | str | None, until: datetime | str | None,
        *, column: str = "scheduled_at", bound: Callable[[Any], str] = iso_utc, array_state: bool = False,
    ) -> tuple[str, list[Any]]:
        """Filters shared by listing, streaming and totals: since <= scheduled_at < until (or, for the summary
        tables, the same bounds on a bucket `column`, `bound` making each bound its text). `array_state`
        (PostgreSQL listings): one state as `state = ANY(?)`, see _listing_sql."""
        clauses: list[str] = []
        params: list[Any] = []
        if rpps is not None:
            clauses.append("rpps = ?")
            params.append(rpps)
        if state is not None and array_state and len(states := _states(state)) == 1:
            clauses.append("state = ANY(?)")
            params.append(states)
        elif state is not None:
            states = _states(state)
            clauses.append(f"state IN ({', '.join('?' * len(states))})" if states else "1 = 0")
            params.extend(states)
        if since is not None:
            clauses.append(f"{column} >= ?")
            params.append(bound(since))
        if until is not None:
            clauses.append(f"{column} < ?")
            params.append(bound(until))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _listing_sql(
        self, rpps: str | None, state: str | Iterable[str] | None, since: datetime | str | None,
        until: datetime | str | None, newest_first: bool,
    ) -> tuple[str, list[Any]]:
        """The listing query, read in index order (schema step 0012): `ORDER BY scheduled_at, id` comes
        straight off an index ending with (scheduled_at, id), so a page stops after its rows. The columns an
        equality fixes (rpps, one state) lead the ORDER BY too: the order is the same, and only the index
        that starts with them provides it. On PostgreSQL one state is written `state = ANY(?)`: with
        `state = ?` the planner knows the column constant, drops it from the order, and may read the date index
        through a month of future consultations to find no « Réussi » (12 ms at a million rows, not 0.1).
        Several states are one ordered branch each merged under one ORDER BY (UNION ALL: SQLite's MERGE;
        PostgreSQL's pages are merged by list_consultations), instead of `state IN (…)`, which would sort
        every row of those states."""
        direction = "DESC" if newest_first else "ASC"
        states = None if state is None else list(dict.fromkeys(_states(state)))
        fixed = ["rpps"] if rpps is not None else []
        if states is not None and len(states) == 1:
            fixed.append("state")
        order = " ORDER BY " + ", ".join(f"{column} {direction}" for column in (*fixed, "scheduled_at", "id"))
        if states is None or len(states) < 2:
            where, params = self._where(rpps, states, since, until, array_state=self.is_postgres)
            return f"SELECT * FROM consultations{where}{order}", params
        branches, params = [], []
        for one in states:
            where, more = self._where(rpps, [one], since, until)
            branches.append(f"SELECT * FROM consultations{where}")
            params.extend(more)
        if self.is_postgres:  # a subquery in FROM, for a cursor over everything (pages: list_consultations)
            return f"SELECT * FROM ({' UNION ALL '.join(branches)}) AS listed{order}", params
        return " UNION ALL ".join(branches) + order, params

    @classmethod
    def _totals_sql(
        cls, rpps: str | None, state: str | Iterable[str] | None, since: datetime | str | None, until: datetime | str | None
    ) -> tuple[str, list[Any]]:
        where, params = cls._where(rpps, state, since, until)
        sums = ", ".join(f"coalesce(sum({field.name}), 0) AS {field.name}" for field in SUMMED_FIELDS)
        return f"SELECT state, count(*) AS count, {sums} FROM consultations{where} GROUP BY state", params

    def _page_sql(
        self, rpps: str | None, state: str | Iterable[str] | None, since: datetime | str | None,
        until: datetime | str | None, newest_first: bool, limit: int = 50,
    ) -> tuple[str, list[Any]]:
        sql, params = self._listing_sql(rpps, state, since, until, newest_first)
        return f"{sql} LIMIT ?", [*params, limit]

    @_guarded
    def query_plans(
        self, *, rpps: str | None = None, state: str | Iterable[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None, newest_first: bool = True,
    ) -> dict[str, list[str]]:
        """SQLite's EXPLAIN QUERY PLAN of the listing (a page of 50) and totals queries for these filters,
        one line per step (benchmarks/ledger.py shows which index each uses)."""
        plans: dict[str, list[str]] = {}
        totals = self._totals_queries(rpps, state, since, until)
        for name, (sql, params) in (
            ("listing", self._page_sql(rpps, state, since, until, newest_first)),
            *((f"totals{'' if i == 0 else f' edge {i}'}", query) for i, query in enumerate(totals)),
        ):
            if self.is_postgres:
                rows = self._conn.execute(f"EXPLAIN {sql}", params).fetchall()
                plans[name] = [line for (line,) in rows]
                continue
            rows = self._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            plans[name] = [detail for (_id, _parent, _unused, detail) in rows]
        return plans

    @_guarded
    def consultation_ids_starting(self, prefix: str, limit: int = 100) -> list[dict[str, Any]]:
        """Consultations whose id starts with `prefix` (exact case), most recent first, for shell completion:
        [{"id", "state", "scheduled_at"}]. Bounded whatever the ledger's size (completion runs on every TAB):

        - at most COMPLETION_EXACT ids match (a prefix of two characters or more, up to a million
          consultations): they are read off the primary key's index and the `limit` most recent returned,
          exactly;
        - more match (a short prefix on a large ledger): the `limit` most recent among the latest
          COMPLETION_WINDOW consultations (the date index, read backwards), topped up with other matches.
          The shell then shows a sample of ids spread over the whole range, so it never completes a
          longer common prefix than the one typed.
        """
        high = prefix + "\uffff"
        matches = self._all(
            "SELECT id, state, scheduled_at FROM consultations WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, high, COMPLETION_EXACT + 1),
        )
        matches.sort(key=lambda row: (row["scheduled_at"], row["id"]), reverse=True)  # the listing's order
        if len(matches) <= COMPLETION_EXACT:
            return matches[:limit]
        recent = self._all(
            "SELECT id, state, scheduled_at FROM (SELECT id, state, scheduled_at FROM consultations"
            " ORDER BY scheduled_at DESC, id DESC LIMIT ?) AS latest WHERE id >= ? AND id < ?"
            " ORDER BY scheduled_at DESC, id DESC LIMIT ?",
            (COMPLETION_WINDOW, prefix, high, limit),
        )
        seen = {row["id"] for row in recent}
        recent += [row for row in matches if row["id"] not in seen][: limit - len(recent)]
        return recent

    @_guarded
    def rpps_starting(self, prefix: str, limit: int = 100) -> list[dict[str, Any]]:
        """Practitioners whose RPPS starts with `prefix`, for shell completion: [{"rpps", "name"}]."""
        return self._all(
            "SELECT rpps, name FROM practitioners WHERE rpps >= ? AND rpps < ? ORDER BY rpps LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )

    @_guarded
    def insert_consultations_many(self, rows: Iterable[Mapping[str, Any]], *, note: str | None = None) -> int:
        """Add many consultations at once (bulk import, benchmarks): one transaction, executemany.

        Each row holds `id`, `rpps` and insert_consultation's fields, checked the same way; each gets the first
        line of its history. The practitioners must exist (foreign key). A duplicate id aborts the whole call
        with sqlite3.IntegrityError and nothing is written. Returns the number of rows added.
        """
        refuse_sensitive(note)
        stamp = iso_utc(now_utc())
        count = 0
        pending: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        history: list[tuple[Any, ...]] = []

        def flush() -> None:
            for columns, values in pending.items():
                self._conn.executemany(
                    f"INSERT INTO consultations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
                )
            self._conn.executemany(
                "INSERT INTO consultation_history (consultation_id, at, state, note) VALUES (?, ?, ?, ?)", history
            )
            pending.clear()
            history.clear()

        with self.transaction():
            for row in rows:
                fields = dict(row)
                consultation_id, rpps = fields.pop("id"), fields.pop("rpps")
                if "state" not in fields or "scheduled_at" not in fields:
                    raise TypeError("each row needs id, rpps, scheduled_at and state")
                values = _prepare(fields, WRITABLE_CONSULTATION_FIELDS, "consultations")
                record = {"id": consultation_id, "rpps": rpps, **values, "created_at": stamp, "updated_at": stamp}
                pending.setdefault(tuple(record), []).append(tuple(record.values()))
                history.append((consultation_id, stamp, values["state"], note))
                count += 1
                if len(history) >= 10_000:
                    flush()
            flush()
        return int(count)

    @_guarded
    def list_consultations(
        self, *, rpps: str | None = None, state: str | Iterable[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None,
        limit: int | None = None, offset: int = 0, newest_first: bool = False,
    ) -> list[Consultation]:
        """One page of consultations, ordered by scheduled_at then id."""
        states = None if state is None else list(dict.fromkeys(_states(state)))
        if self.is_postgres and states is not None and len(states) > 1 and limit is not None:
            # PostgreSQL does not merge the ordered branches of a UNION ALL (it sorts them all): one page per
            # state, each read in index order, merged here.
            pages = [self.list_consultations(rpps=rpps, state=[one], since=since, until=until, limit=offset + limit,
                                             newest_first=newest_first) for one in states]
            merged = heapq.merge(*pages, key=lambda row: (row.scheduled_at, row.id), reverse=newest_first)
            return list(itertools.islice(merged, offset, offset + limit))
        sql, params = self._listing_sql(rpps, state, since, until, newest_first)
        no_limit = None if self.is_postgres else -1  # LIMIT NULL / LIMIT -1: no limit
        rows = self._all(f"{sql} LIMIT ? OFFSET ?", [*params, no_limit if limit is None else limit, offset])
        return [Consultation.from_row(row) for row in rows]

    @_guarded
    def holds_by_deadline(
        self, *, rpps: str | None = None, since: datetime | str | None = None, until: datetime | str | None = None,
        limit: int | None = None,
    ) -> list[Consultation]:
        """Uncaptured holds, the soonest `capture_before` first (then by date and id; a hold without a known
        deadline last): what `status` shows first. Two index-ordered queries (state, capture_before,
        scheduled_at, id), so a page never sorts every hold."""
        where, params = self._where(rpps, [statuses.UNCAPTURED], since, until, array_state=self.is_postgres)
        no_limit = None if self.is_postgres else -1
        bound = no_limit if limit is None else limit
        order = " ORDER BY state, capture_before, scheduled_at, id LIMIT ?"  # state leads: see _listing_sql
        rows = self._all(f"SELECT * FROM consultations{where} AND capture_before IS NOT NULL{order}", [*params, bound])
        if limit is None or len(rows) < limit:
            rows += self._all(
                f"SELECT * FROM consultations{where} AND capture_before IS NULL{order}",
                [*params, no_limit if limit is None else limit - len(rows)],
            )
        return [Consultation.from_row(row) for row in rows]

    def iter_consultations(
        self, *, rpps: str | None = None, state: str | Iterable[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None, newest_first: bool = False,
    ) -> Generator[Consultation, None, None]:
        """Stream every matching consultation from a cursor, one row at a time (for --nl/--csv exports and
        sync over a large ledger). The query runs at the first next(); close the generator (or exhaust it)
        to release the cursor."""
        return self._stream(*self._listing_sql(rpps, state, since, until, newest_first), Consultation.reader)

    def _stream(
        self, sql: str, params: Iterable[Any], reader: Callable[[list[str]], Callable[[Any], _R]]
    ) -> Generator[_R, None, None]:
        """Records of `sql` one at a time (`reader(columns)` builds each from a row): SQLite steps its cursor;
        PostgreSQL reads a server-side cursor in batches (ledger/postgres.py PgStream), so memory stays flat
        however many rows come."""
        try:
            cursor = self._conn.stream(sql, params) if self.is_postgres else self._conn.execute(sql, tuple(params))
            try:
                read = reader([column[0] for column in cursor.description or ()])
                for row in cursor:
                    yield read(row)
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            error = files.translate(exc, self._file, self.busy_timeout_ms)
            if error is exc:
                raise
            raise error from exc

    @_guarded
    def count_consultations(
        self, *, rpps: str | None = None, state: str | Iterable[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None,
    ) -> int:
        where, params = self._where(rpps, state, since, until)
        (count,) = self._conn.execute(f"SELECT count(*) FROM consultations{where}", params).fetchone()
        return int(count)

    @_guarded
    def totals(
        self, *, rpps: str | None = None, state: str | Iterable[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None,
    ) -> Totals:
        """Counts and sums (records.SUMMED_FIELDS) of the matching consultations, overall and per state (in
        code order); unknown fees (NULL) count as 0.

        Exact and flat (schema step 0012): the whole UTC days (months, for one practitioner) inside the
        period come from the summary tables the triggers keep; only the consultations of the partial day
        (month) at each edge of the period are summed from the table itself.
        """
        names = [field.name for field in SUMMED_FIELDS]
        added: dict[str, dict[str, int]] = {}
        for sql, params in self._totals_queries(rpps, state, since, until):
            for part in self._all(sql, params):
                into = added.setdefault(str(part["state"]), dict.fromkeys(("count", *names), 0))
                for key in into:
                    into[key] += int(part[key] or 0)
        by_state: dict[str, Totals] = {}
        for code, added_up in sorted(added.items()):
            if not added_up["count"]:
                continue
            sums = {name: added_up[name] for name in names}
            if code in _NOTHING_HELD:  # a hold that ran out or was released holds nothing any more
                sums["authorised_cents"] = 0
            by_state[code] = Totals.of(added_up["count"], sums)
        overall = {field.name: sum(part.sum(field.name) for part in by_state.values()) for field in SUMMED_FIELDS}
        return Totals.of(sum(part.count for part in by_state.values()), overall, by_state)

    def _totals_queries(
        self, rpps: str | None, state: str | Iterable[str] | None, since: datetime | str | None, until: datetime | str | None
    ) -> list[tuple[str, list[Any]]]:
        """The totals as queries to add up: whole buckets from a summary table, raw sums at the edges."""
        from sarapay.ledger.schema_scale import DAY_TABLE, MONTH_TABLE

        low = None if since is None else iso_utc(since)
        high = None if until is None else iso_utc(until)
        table, column, width = (MONTH_TABLE, "month", 7) if rpps is not None else (DAY_TABLE, "day", 10)
        # Whole buckets: [first, last) by key; a bound inside a bucket leaves that bucket to the raw edge.
        first = None if low is None else (low[:width] if low == _bucket_start(low[:width]) else _next_bucket(low[:width]))
        last = None if high is None else high[:width]
        if first is not None and last is not None and first >= last:  # the period lies within one bucket
            return [self._totals_sql(rpps, state, low, high)]
        where, params = self._where(rpps, state, first, last, column=column, bound=str)
        sums = ", ".join(f"sum({field.name}) AS {field.name}" for field in SUMMED_FIELDS)
        queries = [(f"SELECT state, sum(count) AS count, {sums} FROM {table}{where} GROUP BY state", params)]
        if first is not None and low is not None and low < _bucket_start(first):
            queries.append(self._totals_sql(rpps, state, low, _bucket_start(first)))
        if last is not None and high is not None and _bucket_start(last) < high:
            queries.append(self._totals_sql(rpps, state, _bucket_start(last), high))
        return queries

    @_guarded
    def non_final(self, rpps: str | None = None) -> list[Consultation]:
        """Consultations reconcile must refresh from Stripe (see NON_FINAL_STATES), oldest first."""
        return self.list_consultations(rpps=rpps, state=NON_FINAL_STATES)

    # --- money moves (intent recorded before sending, schema step 0008) ------------------------------------

    @_guarded
    def begin_money_move(self, idempotency_key: str, consultation_id: str, action: str, amount_cents: int) -> None:
        """Records a money move as pending, just before it is sent. A key already recorded is pending again:
        sending the same key twice is what Stripe's idempotency makes safe."""
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents < 0:
            raise TypeError(f"amount_cents must be a non-negative int, got {amount_cents!r}")
        with self.transaction():
            self._conn.execute(
                "INSERT INTO money_moves (idempotency_key, consultation_id, action, amount_cents, state, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)"
                " ON CONFLICT (idempotency_key) DO UPDATE SET state = 'pending', finished_at = NULL",
                (idempotency_key, consultation_id, action, amount_cents, iso_utc(now_utc())),
            )

    @_guarded
    def finish_money_move(self, idempotency_key: str, state: str, stripe_object_id: str | None = None) -> None:
        """Stripe's answer is recorded: the move is `done` (applied), `refused` (Stripe said no) or `settled`
        (its answer was lost, and Stripe's state read since shows the consultation went on either way)."""
        if state not in ("done", "refused", "settled"):
            raise ValueError(f"a money move finishes as done, refused or settled, not {state!r}")
        with self.transaction():
            self._conn.execute(
                "UPDATE money_moves SET state = ?, finished_at = ?, stripe_object_id = COALESCE(?, stripe_object_id)"
                " WHERE idempotency_key = ?",
                (state, iso_utc(now_utc()), stripe_object_id, idempotency_key),
            )

    @_guarded
    def forget_money_move(self, idempotency_key: str) -> None:
        """Deletes a pending move that was never sent (the connection was refused before any byte left)."""
        with self.transaction():
            self._conn.execute("DELETE FROM money_moves WHERE idempotency_key = ? AND state = 'pending'", (idempotency_key,))

    @_guarded
    def get_money_move(self, idempotency_key: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM money_moves WHERE idempotency_key = ?", (idempotency_key,))

    @_guarded
    def pending_money_move(self, consultation_id: str, actions: Iterable[str]) -> dict[str, Any] | None:
        """The oldest move of one of `actions` on the consultation that was sent but whose answer was never
        recorded (lost answer, Ctrl-C, crash), or None."""
        wanted = list(actions)
        marks = ", ".join("?" for _ in wanted)
        return self._one(
            f"SELECT * FROM money_moves WHERE consultation_id = ? AND state = 'pending' AND action IN ({marks})"
            " ORDER BY created_at, rowid LIMIT 1",
            (consultation_id, *wanted),
        )

    @_guarded
    def pending_money_moves(self, *, created_before: str, rpps: str | None = None) -> list[dict[str, Any]]:
        """Moves still pending that were recorded before `created_before` (ISO UTC), oldest first."""
        clauses, params = ["m.state = 'pending'", "m.created_at < ?"], [created_before]
        if rpps is not None:
            clauses.append("c.rpps = ?")
            params.append(rpps)
        return self._all(
            "SELECT m.* FROM money_moves m JOIN consultations c ON c.id = m.consultation_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY m.created_at, m.rowid",
            params,
        )

    @_guarded
    def money_moves(self, consultation_id: str) -> list[dict[str, Any]]:
        """Every recorded move of the consultation, oldest first."""
        return self._all(
            "SELECT * FROM money_moves WHERE consultation_id = ? ORDER BY created_at, rowid", (consultation_id,)
        )

    # --- reminders (schema step 0009) ---------------------------------------------------------------------

    @_guarded
    def holds_due(self, *, after: int, until: int, rpps: str | None = None) -> list[Consultation]:
        """Card holds still to capture (« Non capturé », an amount held) whose deadline `capture_before` falls in
        (after, until], Stripe's unix times; soonest deadline first."""
        clauses = ["state = ?", "paid_online = 1", "authorised_cents > 0", "capture_before > ?", "capture_before <= ?"]
        params: list[Any] = [statuses.UNCAPTURED, int(after), int(until)]
        if rpps is not None:
            clauses.append("rpps = ?")
            params.append(rpps)
        rows = self._all(f"SELECT * FROM consultations WHERE {' AND '.join(clauses)} ORDER BY capture_before, id", params)
        return [Consultation.from_row(row) for row in rows]

    @_guarded
    def sent_reminders(self, consultation_ids: Iterable[str]) -> set[tuple[str, str, int]]:
        """The (consultation id, kind, deadline) reminders already sent among these consultations."""
        ids = list(dict.fromkeys(consultation_ids))
        found: set[tuple[str, str, int]] = set()
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters is far above; keep it small
            chunk = ids[start:start + 500]
            rows = self._conn.execute(
                f"SELECT consultation_id, kind, deadline FROM reminders_sent WHERE consultation_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((cid, kind, int(deadline)) for cid, kind, deadline in rows)
        return found

    @_guarded
    def record_reminders(
        self, reminders: Iterable[Mapping[str, Any]], *, message_id: str | None = None, sent_at: datetime | str | None = None,
    ) -> int:
        """Records the reminders one accepted message carried, all or none: each mapping has consultation_id,
        kind, deadline (unix) and rpps, and may have a `note` for the consultation's timeline, written with it.
        One already recorded is left as it is (and gets no second note). Returns the rows added."""
        stamp = iso_utc(sent_at or now_utc())
        added = 0
        with self.transaction():
            for reminder in reminders:
                kind, deadline = reminder["kind"], reminder["deadline"]
                if kind not in REMINDER_KINDS:
                    raise ValueError(f"kind must be one of {REMINDER_KINDS}, got {kind!r}")
                if isinstance(deadline, bool) or not isinstance(deadline, int):
                    raise TypeError(f"deadline must be a unix time (int), got {type(deadline).__name__}")
                cursor = self._conn.execute(
                    "INSERT INTO reminders_sent (consultation_id, kind, deadline, rpps, sent_at, message_id)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (consultation_id, kind, deadline) DO NOTHING",
                    (reminder["consultation_id"], kind, deadline, reminder["rpps"], stamp, message_id),
                )
                added += cursor.rowcount
                if cursor.rowcount and reminder.get("note"):
                    refuse_sensitive(reminder["note"])
                    self._history(reminder["consultation_id"], stamp, None, reminder["note"])
        return added

    @_guarded
    def list_reminders_sent(self, *, consultation_id: str | None = None, rpps: str | None = None) -> list[dict[str, Any]]:
        """Reminders sent, oldest first, optionally for one consultation or one practitioner."""
        where, params = _equal_to(consultation_id=consultation_id, rpps=rpps)
        return self._all(f"SELECT * FROM reminders_sent{where} ORDER BY id", params)

    # --- disputes (schema step 0010) ------------------------------------------------------------------------

    @_guarded
    def get_dispute(self, dispute_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM disputes WHERE id = ?", (dispute_id,))

    @_guarded
    def upsert_dispute(self, dispute_id: str, **fields: Any) -> tuple[dict[str, Any], bool]:
        """Records what Stripe says of a dispute; returns (the row, whether it was new). Only what changed is
        written: a second call with the same values writes nothing (`updated_at` included)."""
        values = _prepare(fields, _DISPUTE_FIELDS, "disputes")
        stamp = iso_utc(now_utc())
        with self.transaction():
            before = self.get_dispute(dispute_id)
            if before is None:
                row = {"id": dispute_id, **values, "first_seen_at": stamp, "updated_at": stamp}
                self._conn.execute(
                    f"INSERT INTO disputes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
                )
                return self.get_dispute(dispute_id) or row, True
            changed = {name: value for name, value in values.items() if before.get(name) != value}
            if changed:
                self._set("disputes", "id", dispute_id, {**changed, "updated_at": stamp})
            return self.get_dispute(dispute_id) or before, False

    @_guarded
    def latest_dispute(self, consultation_id: str) -> dict[str, Any] | None:
        """The consultation's most recent dispute (a charge is disputed once, in practice)."""
        return self._one(
            "SELECT * FROM disputes WHERE consultation_id = ? ORDER BY created DESC, id DESC LIMIT 1", (consultation_id,)
        )

    @_guarded
    def list_disputes(
        self, *, rpps: str | None = None, statuses: Iterable[str] | None = None, ids: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Disputes with their consultation's practitioner and date (`rpps`, `scheduled_at`, `state`), newest first."""
        clauses, params = [], []
        if rpps is not None:
            clauses.append("c.rpps = ?")
            params.append(rpps)
        for column, values in (("d.status", statuses), ("d.id", ids)):
            if values is not None:
                chosen = list(values)
                clauses.append(f"{column} IN ({', '.join('?' * len(chosen))})" if chosen else "0")
                params.extend(chosen)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return self._all(
            "SELECT d.*, c.rpps AS rpps, c.scheduled_at AS scheduled_at, c.state AS state FROM disputes d "
            f"JOIN consultations c ON c.id = d.consultation_id{where} ORDER BY d.created DESC, d.id DESC",
            params,
        )

    @_guarded
    def dispute_watch(self, *, captured_since: datetime | str, open_statuses: Iterable[str], rpps: str | None = None) -> dict[str, int | None]:
        """The accounts whose disputes reconcile reads: those with a payment captured for a consultation
        scheduled since `captured_since` (a dispute comes within the card networks' window), and those with a
        dispute still open; only accounts still linked to their practitioner. Each with the `created` of its
        oldest open dispute (None when none is open)."""
        chosen = list(open_statuses)
        marks = ", ".join("?" * len(chosen)) or "NULL"
        by_rpps = " AND c.rpps = ?" if rpps is not None else ""
        params: list[Any] = [iso_utc(captured_since), *([rpps] if rpps is not None else [])]
        accounts: dict[str, int | None] = {
            row["account_id"]: None
            for row in self._all(
                "SELECT DISTINCT c.account_id FROM consultations c JOIN practitioners p ON p.rpps = c.rpps "
                "AND p.account_id = c.account_id WHERE c.captured_cents > 0"
                f" AND c.scheduled_at >= ?{by_rpps}",
                params,
            )
        }
        for row in self._all(
            "SELECT d.account_id, min(d.created) AS oldest FROM disputes d JOIN consultations c ON c.id = d.consultation_id "
            "JOIN practitioners p ON p.rpps = c.rpps AND p.account_id = d.account_id "
            f"WHERE d.status IN ({marks}){by_rpps} GROUP BY d.account_id",
            [*chosen, *([rpps] if rpps is not None else [])],
        ):
            accounts[row["account_id"]] = int(row["oldest"])
        return accounts

    # --- webhook events (schema step 0011) -----------------------------------------------------------------

    @_guarded
    def webhook_event(self, event_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM webhook_events WHERE event_id = ?", (event_id,))

    @_guarded
    def record_webhook_event(
        self, event_id: str, *, account_id: str | None, type: str, event_created: int, outcome: str,
        consultation_id: str | None = None, fetched_at: int | None = None,
    ) -> bool:
        """Records an accepted event; False (nothing written) when its id was recorded before. Call it inside
        the transaction that applies the event, so the event and its effect commit together."""
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO webhook_events (event_id, account_id, type, event_created, consultation_id, outcome,"
                " fetched_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                (event_id, account_id, type, int(event_created), consultation_id, outcome, fetched_at, iso_utc(now_utc())),
            )
            return bool(cursor.rowcount == 1)

    @_guarded
    def account_known(self, account_id: str) -> bool:
        """Whether the account is a practitioner's, now or once (their consultations keep it after unlink)."""
        return self._one(
            "SELECT 1 AS k FROM practitioners WHERE account_id = ? UNION ALL "
            "SELECT 1 FROM consultations WHERE account_id = ? LIMIT 1", (account_id, account_id)
        ) is not None

    @_guarded
    def webhook_synced_through(self, consultation_id: str) -> int | None:
        """Stripe's time of the latest read of the consultation's objects made for an event (None: never)."""
        row = self._one("SELECT MAX(fetched_at) AS t FROM webhook_events WHERE consultation_id = ?", (consultation_id,))
        return None if row is None or row["t"] is None else int(row["t"])

    @_guarded
    def webhook_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM webhook_events ORDER BY received_at DESC, rowid DESC LIMIT ?", (limit,))

    # --- history ------------------------------------------------------------------------------------------

    def _history(self, consultation_id: str, at: str, state: str | None, note: str | None) -> None:
        self._conn.execute(
            "INSERT INTO consultation_history (consultation_id, at, state, note) VALUES (?, ?, ?, ?)",
            (consultation_id, at, state, note),
        )

    @_guarded
    def add_history(
        self, consultation_id: str, *, state: str | None = None, note: str | None = None, at: datetime | str | None = None
    ) -> None:
        """Add a line to the timeline without changing the consultation (a new payment link, a reminder...)."""
        refuse_sensitive(note)
        with self.transaction():
            self._require_consultation(consultation_id)
            self._history(consultation_id, iso_utc(at or now_utc()), state, note)

    @_guarded
    def history(self, consultation_id: str) -> list[HistoryEntry]:
        """The timeline shown by `status CONSULTATION`, oldest first."""
        rows = self._all(
            "SELECT at, state, note FROM consultation_history WHERE consultation_id = ? ORDER BY id",
            (consultation_id,),
        )
        return [HistoryEntry.from_row(row) for row in rows]

    # --- OAuth states -------------------------------------------------------------------------------------

    @_guarded
    def create_oauth_state(self, rpps: str, *, ttl: timedelta = DEFAULT_OAUTH_STATE_TTL) -> str:
        """A fresh, unguessable CSRF `state` for the Connect OAuth link of `rpps`."""
        state = secrets.token_urlsafe(24)
        now = now_utc()
        with self.transaction():
            self._conn.execute("DELETE FROM oauth_states WHERE expires_at < ?", (iso_utc(now - OAUTH_STATE_PURGE_AFTER),))
            self._conn.execute(
                "INSERT INTO oauth_states (state, rpps, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (state, rpps, iso_utc(now), iso_utc(now + ttl)),
            )
        return state

    @_guarded
    def consume_oauth_state(self, state: str, *, rpps: str | None = None) -> str:
        """Spend a `state` once and return the RPPS it was issued for. Raises BadInput when it is unknown,
        already used, expired, or (given `rpps`) issued for someone else; only success marks it used."""
        with self.transaction():
            row = self._one("SELECT * FROM oauth_states WHERE state = ?", (state,))
            if row is None:
                raise BadInput("ledger.oauth_state_unknown")
            if row["used_at"] is not None:
                raise BadInput("ledger.oauth_state_used")
            now = iso_utc(now_utc())
            if now >= row["expires_at"]:
                raise BadInput("ledger.oauth_state_expired", expires_at=row["expires_at"])
            if rpps is not None and rpps != row["rpps"]:
                raise BadInput("ledger.oauth_state_mismatch", rpps=rpps)
            self._conn.execute("UPDATE oauth_states SET used_at = ? WHERE state = ?", (now, state))
            return str(row["rpps"])

    # --- audit log ----------------------------------------------------------------------------------------

    @_guarded
    def append_audit(
        self, command: str, *, outcome: str, target: str | None = None, detail: str | None = None,
        stripe_request_id: str | None = None, actor: str | None = None,
    ) -> int:
        """Record who did what to what, and how it ended. Returns the entry's id.

        Append it outside any transaction that may roll back (an 'error' outcome must survive the error).
        """
        if outcome not in AUDIT_OUTCOMES:
            raise ValueError(f"outcome must be one of {AUDIT_OUTCOMES}, got {outcome!r}")
        refuse_sensitive(detail)
        refuse_sensitive(target)
        returning = " RETURNING id" if self.is_postgres else ""
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO audit_log (at, actor, command, target, outcome, detail, stripe_request_id)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?){returning}",
                (iso_utc(now_utc()), actor or os_user(), command, target, outcome, detail, stripe_request_id),
            )
            if returning:
                return int(cursor.fetchone()[0])
            return int(cursor.lastrowid or 0)

    @_guarded
    def list_audit(self, limit: int = 20, *, command: str | None = None, target: str | None = None) -> list[AuditEntry]:
        """The last `limit` entries, newest first, in one query."""
        sql, params = self._audit_query(limit, command, target)
        return [AuditEntry.from_row(row) for row in self._all(sql, params)]

    def iter_audit(self, limit: int = 20, *, command: str | None = None, target: str | None = None) -> Iterator[AuditEntry]:
        """The last `limit` entries, newest first: a page (`sarapay log`) in one query, a long run (`log -n
        100000`) streamed (see iter_consultations; on PostgreSQL a cursor costs four more round trips)."""
        if limit <= AUDIT_PAGE:
            return iter(self.list_audit(limit, command=command, target=target))
        sql, params = self._audit_query(limit, command, target)
        return self._stream(sql, params, lambda columns: lambda row: AuditEntry.from_row(dict(zip(columns, row))))

    @staticmethod
    def _audit_query(limit: int, command: str | None, target: str | None) -> tuple[str, list[Any]]:
        where, params = _equal_to(command=command, target=target)
        return f"SELECT * FROM audit_log{where} ORDER BY id DESC LIMIT ?", [*params, limit]

    # --- meta and backup ----------------------------------------------------------------------------------

    @_guarded
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    @_guarded
    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @_guarded
    def vacuum_into(self, target: Path | str) -> Path:
        """A consistent, compacted copy of the ledger at `target`, created 0600 like the ledger itself."""
        target = Path(target).expanduser()
        if self.is_postgres:
            raise BadInput("ledger.backup_postgres", path=str(target))
        if self._conn.in_transaction:
            raise RuntimeError("vacuum_into cannot run inside a transaction")
        if target.exists() and (target.is_dir() or target.stat().st_size > 0):
            raise BadInput("ledger.backup_exists", path=str(target))
        files.create_private(target)  # VACUUM INTO accepts an existing empty file and keeps its mode
        try:
            self._conn.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            # A failed backup must not leave a half-written file that looks like a backup.
            target.unlink(missing_ok=True)
            error = files.translate(exc, target, self.busy_timeout_ms)
            if error is exc:
                raise
            raise error from exc
        return target

    # --- locks held across machines (PostgreSQL) -----------------------------------------------------------

    def try_lock(self, kind: str, name: str) -> bool:
        """PostgreSQL only: a session lock on (kind, name) ("consultation" or "run"), False if held elsewhere.
        Released by `unlock`, or by the server when this connection ends (a killed process included)."""
        return bool(self._conn.try_lock(kind, name))

    def unlock(self, kind: str, name: str) -> None:
        self._conn.unlock(kind, name)

    def lock_holder(self, kind: str, name: str) -> tuple[str, str] | None:
        try:
            holder: tuple[str, str] | None = self._conn.lock_holder(kind, name)
            return holder
        except Exception:  # pg_stat_activity hidden from this role, say: the message then says "unknown"
            return None

    # --- copying a whole ledger (`sarapay ledger copy`) ---------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[Ledger]:
        """A read transaction: every read inside sees the ledger as it was at its first read, and nothing
        is locked against other writers (SQLite's WAL, PostgreSQL's repeatable read)."""
        if self.is_postgres:
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            self._sql_guard(self._conn.execute, "BEGIN DEFERRED")
        try:
            yield self
        finally:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def data_tables(self) -> list[str]:
        """The ledger's tables (not the migrations' bookkeeping), parents before children."""
        from sarapay.ledger import schema

        # Derived tables (schema.DERIVED_TABLES) are rebuilt by the target's triggers, not copied.
        names = self._table_names() - {"_sqlite_migrations", "_sarapay_migrations", "sqlite_sequence", *schema.DERIVED_TABLES}
        return [t for t in schema.TABLES if t in names] + sorted(names - set(schema.TABLES))

    def _columns(self, table: str) -> list[str]:
        if self.is_postgres:
            rows = self._conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            return [name for (name,) in rows]
        return [name for (_cid, name, *_rest) in self._conn.execute(f'PRAGMA table_info("{table}")')]

    def _rows(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        """Every row in insertion order (rowid on both backends; an integer key is its rowid)."""
        order = "rowid"
        if self.is_postgres and "rowid" not in (present := self._columns(table)):
            order = present[0]  # the table's integer key, which ledger/postgres.py made an identity column
        cursor = self._conn.execute(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY {order}')
        yield from cursor

    def table_digest(self, table: str, columns: list[str] | None = None) -> tuple[int, str]:
        """(row count, sha256 of the rows) of `table`, independent of backend and row order."""
        import hashlib
        import json

        columns = columns or self.copy_columns(table)
        lines = sorted(json.dumps(list(row), ensure_ascii=False) for row in self._rows(table, columns))
        return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def copy_columns(self, table: str) -> list[str]:
        return [c for c in self._columns(table) if c != "rowid"]

    def is_empty(self) -> bool:
        """Nothing but what a new ledger holds (meta's `application` row)."""
        for table in self.data_tables():
            where = " WHERE key <> 'application'" if table == "meta" else ""
            (count,) = self._conn.execute(f'SELECT count(*) FROM "{table}"{where}').fetchone()
            if count:
                return False
        return True

    @_guarded
    def copy_into(self, target: Ledger, *, audit_target: str | None = None) -> dict[str, tuple[int, str]]:
        """Copies every table of this ledger into the empty `target` in one transaction of the target, checks
        each table's row count and checksum there before committing, and appends one audit row to the
        target. Returns {table: (rows, sha256)}. This ledger is only read (in one snapshot)."""
        digests: dict[str, tuple[int, str]] = {}
        with self.snapshot(), target.transaction():
            if not target.is_empty():
                raise BadInput("ledger.copy_not_empty", target=target.location)
            tables = self.data_tables()
            target._conn.execute("DELETE FROM meta")
            for table in tables:
                columns = self.copy_columns(table)
                missing = set(columns) - set(target.copy_columns(table)) if table in target.data_tables() else {table}
                if missing:
                    raise ConfigError("ledger.copy_schema", target=target.location, table=table)
                insert = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
                batch: list[tuple[Any, ...]] = []
                for row in self._rows(table, columns):
                    batch.append(row)
                    if len(batch) >= 5000:
                        target._conn.executemany(insert, batch)
                        batch.clear()
                if batch:
                    target._conn.executemany(insert, batch)
                digests[table] = self.table_digest(table, columns)
            if target.is_postgres:
                target._reset_identities(tables)
            for table in tables:
                copied = target.table_digest(table, self.copy_columns(table))
                if copied != digests[table]:
                    raise ConfigError("ledger.copy_mismatch", target=target.location, table=table)
            rows = sum(count for count, _ in digests.values())
            target.append_audit("ledger copy", outcome="ok", target=audit_target,
                                detail=f"rows={rows} tables={len(tables)} checksums_verified")
        return digests

    def _reset_identities(self, tables: list[str]) -> None:
        """After rows were inserted with their ids: the next generated id follows the largest one."""
        for table in tables:
            for column in ("id", "rowid"):
                (sequence,) = self._conn.execute("SELECT pg_get_serial_sequence(?, ?)", (table, column)).fetchone() \
                    if column in self._columns(table) else (None,)
                if sequence:
                    self._conn.execute(
                        f'SELECT setval(?, (SELECT COALESCE(max({column}), 0) + 1 FROM "{table}"), false)', (sequence,)
                    )


def os_user() -> str:
    """Who runs the command, for the audit log; cron jobs in containers may have no name."""
    try:
        return getpass.getuser()
    except Exception:
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "inconnu"
