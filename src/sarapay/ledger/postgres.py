"""The ledger on a team's PostgreSQL server: the URL (checked, masked), the connection, and the few places
where PostgreSQL's SQL is not SQLite's.

Decisions:
- psycopg (3) is imported only here, and only when the configured ledger is a PostgreSQL URL: a SQLite
  user's start-up does not change.
- The store's queries are written once, in SQLite's SQL. `PgConnection` runs them on PostgreSQL: `?`
  placeholders become `%s`, `x IS ?` becomes `x IS NOT DISTINCT FROM %s`; DDL steps go through
  `ddl()` (INTEGER → BIGINT, `typeof()` CHECKs dropped since the column's type enforces them, GLOB →
  a regular expression, INTEGER PRIMARY KEY → identity, every TEXT in the "C" collation so that ordering
  and prefix ranges are byte order as in SQLite, and a hidden `rowid` identity on tables without an
  integer key, so `ORDER BY rowid` means insertion order on both). A new schema step or query is written
  once; `tests/ledger` runs every one on both backends.
- Writes keep SQLite's semantics: a write transaction first takes one ledger-wide transaction lock
  (`pg_advisory_xact_lock`), as BEGIN IMMEDIATE takes SQLite's write lock, so every read-check-write
  (`update_if_state`, `consume_oauth_state`, the migrations) is serialised; readers never wait (MVCC).
- The password is never in the URL sarapay keeps: libpq reads PGPASSWORD and ~/.pgpass, and when the
  server asks for a password that neither gives, the keyring's entry for this URL is tried.
- Every failure to reach or use the server is one ConfigError (exit 4) naming the masked URL.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import sqlite3
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sarapay import i18n
from sarapay.errors import BadInput, ConfigError

i18n.register(
    {
        "config.database_password_in_url": {
            "fr": "L'adresse {url} contient un mot de passe : il ne se passe jamais sur la ligne de commande (historique du "
            "shell, liste des processus). Donnez l'adresse sans mot de passe ; le mot de passe vient du trousseau "
            "(--password, saisie masquée), de la variable PGPASSWORD ou du fichier ~/.pgpass.",
            "en": "The address {url} carries a password: it is never given on the command line (shell history, process "
            "list). Give the address without it; the password comes from the keyring (--password, hidden prompt), "
            "the PGPASSWORD variable or the ~/.pgpass file.",
        },
        "ledger.pg_url": {
            "fr": "L'adresse de base de données {url} n'est pas une adresse PostgreSQL valide "
            "(attendu : postgresql://utilisateur@hôte:port/base).",
            "en": "The database address {url} is not a valid PostgreSQL address "
            "(expected: postgresql://user@host:port/database).",
        },
        "ledger.pg_driver": {
            "fr": "Le pilote PostgreSQL (psycopg) manque pour ouvrir {url} : réinstallez sarapay (pip install sarapay).",
            "en": "The PostgreSQL driver (psycopg) is missing to open {url}: reinstall sarapay (pip install sarapay).",
        },
        "ledger.pg_unreachable": {
            "fr": "Le serveur PostgreSQL de {url} est injoignable ({reason}) : rien n'a été écrit. "
            "Vérifiez l'hôte, le port et le réseau, puis relancez la commande.",
            "en": "The PostgreSQL server of {url} cannot be reached ({reason}): nothing was written. "
            "Check the host, the port and the network, then run the command again.",
        },
        "ledger.pg_auth": {
            "fr": "PostgreSQL refuse la connexion à {url} (mot de passe ou rôle refusé) : rien n'a été écrit. "
            "Le mot de passe vient du trousseau (sarapay config set-database URL --password), "
            "de la variable PGPASSWORD ou du fichier ~/.pgpass.",
            "en": "PostgreSQL refuses the connection to {url} (password or role refused): nothing was written. "
            "The password comes from the keyring (sarapay config set-database URL --password), "
            "the PGPASSWORD variable or the ~/.pgpass file.",
        },
        "ledger.pg_no_database": {
            "fr": "La base désignée par {url} n'existe pas sur ce serveur : rien n'a été écrit. "
            "Créez-la (voir le README, « En équipe ») ou corrigez l'adresse.",
            "en": "The database named by {url} does not exist on this server: nothing was written. "
            "Create it (see the README, 'For teams') or fix the address.",
        },
        "ledger.pg_denied": {
            "fr": "Le rôle de {url} n'a pas les droits nécessaires sur la base ({reason}) : rien n'a été écrit. "
            "Donnez-lui les droits décrits dans le README (« En équipe »).",
            "en": "The role of {url} lacks the rights it needs on the database ({reason}): nothing was written. "
            "Grant it the rights the README describes ('For teams').",
        },
        "ledger.pg_version": {
            "fr": "Le serveur PostgreSQL de {url} est en version {version} : sarapay demande PostgreSQL {minimum} "
            "ou plus récent. Rien n'a été écrit.",
            "en": "The PostgreSQL server of {url} runs version {version}: sarapay needs PostgreSQL {minimum} "
            "or newer. Nothing was written.",
        },
        "ledger.pg_lost": {
            "fr": "La connexion à {url} a été perdue pendant la commande : ce qu'elle écrivait dans le registre a été "
            "annulé. Relancez-la : les clés d'idempotence de Stripe empêchent que l'argent bouge deux fois.",
            "en": "The connection to {url} was lost during the command: what it was writing to the ledger was rolled "
            "back. Run it again: Stripe's idempotency keys keep money from moving twice.",
        },
        "ledger.pg_foreign": {
            "fr": "La base {url} contient déjà des tables du même nom que celles de sarapay ({tables}) sans être un "
            "registre sarapay : sarapay n'y touchera pas. Donnez-lui une base à elle.",
            "en": "The database {url} already holds tables named like sarapay's ({tables}) without being a sarapay "
            "ledger: sarapay will not touch it. Give it a database of its own.",
        },
        "ledger.pg_newer_schema": {
            "fr": "Le registre {url} a été mis à jour par une version plus récente de sarapay (étapes de schéma "
            "inconnues : {steps}) : cette version refuse de l'utiliser. Mettez sarapay à jour sur cette machine.",
            "en": "The ledger {url} was upgraded by a newer version of sarapay (unknown schema steps: {steps}): "
            "this version refuses to use it. Upgrade sarapay on this machine.",
        },
    }
)

SCHEMES = ("postgresql", "postgres")
MIN_SERVER_VERSION = 130000  # identity columns, `IS NOT DISTINCT FROM`, ON CONFLICT: 13 is the oldest still supported
MIGRATIONS_TABLE = "_sarapay_migrations"
# Advisory lock keys: (class, key). Class 1: the ledger-wide write lock; 2: one consultation; 3: reconcile/sync.
WRITE_LOCK = (0x5A7A, 1)
LOCK_CLASSES = {"consultation": 0x5A7B, "run": 0x5A7C}


class LedgerIntegrityError(sqlite3.IntegrityError):
    """A constraint refused a write on PostgreSQL: the same exception type as on SQLite, for callers."""


# --------------------------------------------------------------------------- the URL


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0].lower() in SCHEMES and "://" in target


_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*):[^@/?#]*@")


def mask_url(url: str) -> str:
    """`url` without its password (userinfo and `password=` parameter), as it may be shown or logged."""
    url = _USERINFO_PASSWORD.sub(r"\1:***@", url.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(?i)(password=)[^&]*", r"\1***", url)
    if parts.query:
        query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="*/:"), parts.fragment))
    return url


def has_password(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return bool(_USERINFO_PASSWORD.search(url))
    return parts.password is not None or any(k.lower() == "password" for k, _ in parse_qsl(parts.query))


def check_typed_url(url: str) -> str:
    """check_url for an address typed on a command line (`config set-database`, `ledger copy --to`): one that
    carries a password is refused (BadInput, exit 2, naming it masked) before anything else."""
    if has_password(url):
        raise BadInput("config.database_password_in_url", url=mask_url(url))
    return check_url(url)


def check_url(url: str) -> str:
    """`url` stripped, or ConfigError naming it masked when it is not a PostgreSQL URL libpq can use."""
    url = url.strip()
    masked = mask_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("ledger.pg_url", url=masked) from None
    database = parts.path[1:] if parts.path.startswith("/") else parts.path
    hosts = parts.netloc.rsplit("@", 1)[-1]
    if (
        parts.scheme.lower() not in SCHEMES
        or parts.fragment
        or "/" in database
        or (not hosts and not any(k == "host" for k, _ in parse_qsl(parts.query)))
        or re.search(r"\s", url)
    ):
        raise ConfigError("ledger.pg_url", url=masked)
    return url


# --------------------------------------------------------------------------- connecting


def connect(url: str, *, read_only: bool = False, busy_timeout_ms: int = 5000, connect_timeout: int = 10) -> PgConnection:
    url = check_url(url)
    masked = mask_url(url)
    try:
        import psycopg
    except ImportError:
        raise ConfigError("ledger.pg_driver", url=masked) from None
    options = f"-c lock_timeout={int(busy_timeout_ms)}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    kwargs: dict[str, Any] = {
        "autocommit": True,  # like sqlite3's isolation_level=None: transactions are the ledger's own BEGIN/COMMIT
        "connect_timeout": max(1, int(connect_timeout)),
        "application_name": f"sarapay {socket.gethostname()} pid {os.getpid()}"[:63],
        "options": options,
    }
    try:
        try:
            raw = psycopg.connect(url, **kwargs)
        except psycopg.OperationalError as exc:
            if "no password supplied" not in str(exc):
                raise
            from sarapay import credentials

            password = credentials.read_database_password(masked)
            if not password:
                raise
            raw = psycopg.connect(url, password=password, **kwargs)
    except psycopg.Error as exc:
        raise _connect_error(exc, masked) from None
    version = raw.info.server_version
    if version < MIN_SERVER_VERSION:
        raw.close()
        raise ConfigError(
            "ledger.pg_version", url=masked, version=_version_text(version), minimum=_version_text(MIN_SERVER_VERSION)
        )
    return PgConnection(raw, masked, busy_timeout_ms)


def _version_text(number: int) -> str:
    return f"{number // 10000}.{number % 10000}" if number >= 100000 else f"{number // 10000}.{number // 100 % 100}"


def _connect_error(exc: Exception, masked: str) -> ConfigError:
    text = str(exc)
    state = getattr(exc, "sqlstate", None)
    if state in ("28P01", "28000") or any(
        marker in text for marker in ("password authentication failed", "no password supplied", "role \"", "authentication failed")
    ):
        return ConfigError("ledger.pg_auth", url=masked)
    if state == "3D000" or ("database \"" in text and "does not exist" in text):
        return ConfigError("ledger.pg_no_database", url=masked)
    if state == "42501" or "permission denied" in text:
        return ConfigError("ledger.pg_denied", url=masked, reason=_reason(text))
    return ConfigError("ledger.pg_unreachable", url=masked, reason=_reason(text))


def _reason(text: str) -> str:
    """The last, most specific part of libpq's message ("Connection refused", "timeout expired")."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[0] if lines else text
    return last.rsplit(" failed: ", 1)[-1].strip()[:160]


# --------------------------------------------------------------------------- the connection


_BOOLEAN_LITERAL = re.compile(r"\b(WHERE|AND|OR|ON|WHEN)\s+([01])\b(?!\s*[-+*/=<>!.,)])", re.I)


def _booleans(sql: str) -> str:
    """SQLite's `WHERE 0` / `AND 1` (a filter on nothing / on everything): PostgreSQL wants FALSE / TRUE."""
    return _BOOLEAN_LITERAL.sub(lambda m: f"{m.group(1)} {'TRUE' if m.group(2) == '1' else 'FALSE'}", sql)


@lru_cache(maxsize=512)
def _translate_query(sql: str) -> str:
    sql = _booleans(sql).replace("%", "%%")
    sql = re.sub(r"\bIS\s+\?", "IS NOT DISTINCT FROM ?", sql)
    return sql.replace("?", "%s")


Row = tuple[Any, ...]
NUMERIC_OID = 1700  # PostgreSQL's type oid of `numeric`


class PgCursor:
    """The part of sqlite3.Cursor the store uses; rows without the hidden `rowid`, sums as ints."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.lastrowid = None
        self.rowcount = cursor.rowcount
        columns = list(cursor.description or [])
        names = [column.name for column in columns]
        self._keep = [i for i, name in enumerate(names) if name != "rowid"] if "rowid" in names else None
        kept = self._keep if self._keep is not None else range(len(names))
        self.description = [(names[i],) for i in kept]
        # sum() of integers is numeric in PostgreSQL: only those columns are looked at, row after row.
        self._numeric = any(columns[i].type_code == NUMERIC_OID for i in kept)

    def _row(self, row: Row) -> Row:
        if self._keep is not None:
            row = tuple(row[i] for i in self._keep)
        if self._numeric:
            row = tuple(int(v) if isinstance(v, Decimal) and v == v.to_integral_value() else v for v in row)
        return row

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else self._row(row)

    def fetchall(self) -> list[Row]:
        return [self._row(row) for row in self._cursor.fetchall()]

    def __iter__(self) -> Iterator[Row]:
        for row in self._cursor:
            yield self._row(row)

    def close(self) -> None:
        self._cursor.close()


class PgStream(PgCursor):
    """Rows of a server-side cursor, STREAM_BATCH at a time: a huge listing never sits whole in memory.
    The cursor lives in a read-only transaction this stream opens (and ends on close) unless one is open."""

    def __init__(self, cursor: Any, owner: PgConnection, began: bool) -> None:
        super().__init__(cursor)
        self._owner = owner
        self._began = began

    def close(self) -> None:
        try:
            if not self._cursor.closed and not (self._owner._raw.closed or self._owner._raw.broken):
                self._cursor.close()
        finally:
            if self._began and self._owner.in_transaction:
                self._owner.execute("COMMIT")


STREAM_BATCH = 2000


class PgConnection:
    """The part of sqlite3.Connection the store uses, on a psycopg connection in autocommit mode."""

    backend = "postgresql"

    def __init__(self, raw: Any, location: str, busy_timeout_ms: int) -> None:
        self._raw = raw
        self.location = location
        self.busy_timeout_ms = busy_timeout_ms
        self._streams = itertools.count(1)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._raw.closed or self._raw.broken:
            return False
        return self._raw.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> PgCursor:
        cursor = self._raw.cursor()
        try:
            if params is None:
                cursor.execute(_booleans(sql))
            else:
                cursor.execute(_translate_query(sql), tuple(params))
        except Exception as exc:
            raise self.translate(exc) from exc
        return PgCursor(cursor)

    def stream(self, sql: str, params: Iterable[Any] = ()) -> PgStream:
        """`sql` read through a server-side cursor (see PgStream); close the stream when done."""
        began = not self.in_transaction
        if began:  # a cursor without HOLD lives in a transaction; read-only: nothing can write under it
            self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor = self._raw.cursor(name=f"sarapay_stream_{id(self):x}_{next(self._streams)}")
            cursor.itersize = STREAM_BATCH
            cursor.execute(_translate_query(sql), tuple(params))
        except Exception as exc:
            if began and self.in_transaction:
                self.execute("ROLLBACK")
            raise self.translate(exc) from exc
        return PgStream(cursor, self, began)

    def executemany(self, sql: str, seq: Iterable[Iterable[Any]]) -> None:
        cursor = self._raw.cursor()
        try:
            cursor.executemany(_translate_query(sql), [tuple(p) for p in seq])
        except Exception as exc:
            raise self.translate(exc) from exc

    def close(self) -> None:
        self._raw.close()

    def translate(self, exc: Exception) -> Exception:
        """sarapay's error for a PostgreSQL error about the server or the rights, or `exc` (a bug) itself."""
        import psycopg
        from psycopg import errors

        if not isinstance(exc, psycopg.Error):
            return exc
        if isinstance(exc, psycopg.IntegrityError):
            return LedgerIntegrityError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        if isinstance(exc, errors.InsufficientPrivilege):
            return ConfigError("ledger.pg_denied", url=self.location, reason=_reason(str(exc)))
        if isinstance(exc, (errors.LockNotAvailable, errors.QueryCanceled)):
            return ConfigError("ledger.busy", path=self.location, seconds=max(1, round(self.busy_timeout_ms / 1000)))
        if isinstance(exc, errors.ReadOnlySqlTransaction):
            return ConfigError("ledger.read_only", path=self.location)
        if isinstance(exc, errors.DiskFull):
            return ConfigError("ledger.disk_full", path=self.location)
        if isinstance(exc, psycopg.OperationalError) and (self._raw.closed or self._raw.broken):
            return ConfigError("ledger.pg_lost", url=self.location)
        return exc

    # --- what only PostgreSQL has ------------------------------------------------------------------------

    def lock_writes(self) -> None:
        """Inside a transaction: the ledger-wide write lock, until COMMIT or ROLLBACK (BEGIN IMMEDIATE's part)."""
        self.execute("SELECT pg_advisory_xact_lock(?, ?)", WRITE_LOCK)

    def try_lock(self, kind: str, name: str) -> bool:
        """A session-level lock on (kind, name), held until `unlock` or until the connection ends (a killed
        process's locks are released by the server). False at once if another session holds it."""
        row = self.execute("SELECT pg_try_advisory_lock(?, hashtext(?))", (LOCK_CLASSES[kind], name)).fetchone()
        return bool(row and row[0])

    def unlock(self, kind: str, name: str) -> None:
        if self._raw.closed or self._raw.broken:
            return  # the server released it with the session
        self.execute("SELECT pg_advisory_unlock(?, hashtext(?))", (LOCK_CLASSES[kind], name))

    def lock_holder(self, kind: str, name: str) -> tuple[str, str] | None:
        """(application name, since) of the session holding (kind, name), when this role may see it."""
        row = self.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? AND l.objid = hashtext(?)::oid"
            " AND l.objsubid = 2 LIMIT 1",
            (LOCK_CLASSES[kind], name),
        ).fetchone()
        if row is None:
            return None
        return str(row[0] or ""), row[1].astimezone().replace(microsecond=0).isoformat() if row[1] else ""

    def applied_steps(self, migration_set: str) -> list[str] | None:
        """The schema steps recorded, in order, in one round trip; None when the table is missing (a new
        database: the caller then looks at the catalogue)."""
        from psycopg import errors

        cursor = self._raw.cursor()
        try:
            cursor.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = %s ORDER BY id", (migration_set,)
            )
        except errors.UndefinedTable:
            return None
        except Exception as exc:
            raise self.translate(exc) from exc
        return [str(name) for (name,) in cursor.fetchall()]

    def table_names(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE'"
        )
        return {name for (name,) in rows}


# --------------------------------------------------------------------------- DDL


_INTEGER_KEY = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.I)
_TYPEOF_INTEGER = re.compile(r"typeof\s*\(\s*\w+\s*\)\s*=\s*'integer'", re.I)
_GLOB = re.compile(r"(\w+)\s+(NOT\s+)?GLOB\s+'([^']*)'", re.I)
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(", re.I)


def _glob_to_regex(pattern: str) -> str:
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + "$"


def ddl(statement: str) -> str:
    """A schema step's statement, written for SQLite, as PostgreSQL runs it (see the module docstring)."""
    sql = _INTEGER_KEY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    sql = _TYPEOF_INTEGER.sub("TRUE", sql)
    sql = _GLOB.sub(lambda m: f"{m.group(1)} {'!~' if m.group(2) else '~'} '{_glob_to_regex(m.group(3))}'", sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    sql = re.sub(r"\bBLOB\b", "BYTEA", sql)
    sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    match = _CREATE_TABLE.match(sql)
    if match and "IDENTITY PRIMARY KEY" not in sql:
        # SQLite's implicit rowid, made explicit: insertion order for `ORDER BY rowid`, hidden from SELECT *.
        sql = sql[: match.end()] + "\n            rowid BIGINT GENERATED BY DEFAULT AS IDENTITY," + sql[match.end() :]
    return sql


class SchemaTarget:
    """What a schema step function receives on PostgreSQL: `execute(sql)` as on a sqlite_utils Database."""

    backend = "postgresql"  # a step written for both backends may say what only PostgreSQL takes

    def __init__(self, conn: PgConnection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> PgCursor:
        return self._conn.execute(ddl(sql), params)

    def execute_native(self, sql: str) -> PgCursor:
        """A statement written for PostgreSQL itself (a trigger function), run as it is."""
        return self._conn.execute(sql)
