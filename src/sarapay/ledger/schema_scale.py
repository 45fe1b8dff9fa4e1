"""Schema step 0012: `status` and id completion flat at a million consultations (issue 10, point 8).

Registered by ledger/schema.py at its end (this module imports nothing of it: no import cycle); like every
step, never edited once released.

- Listing indexes end with `id`, the listing's tie-breaker (`ORDER BY scheduled_at DESC, id DESC`), so a
  page of 50 is read straight off an index, without sorting the rows of a state or a practitioner: by
  date; by state and date; by practitioner and date; by practitioner, state and date; holds by deadline.
- Totals come from two summary tables kept exact by triggers, in the same transaction as the change:
  counts and sums per (state, UTC day) for the whole ledger, and per (practitioner, state, UTC month).
  `Ledger.totals` adds whole buckets inside the period and sums the few raw rows at its edges, so no
  query reads more than a few days of consultations whatever the ledger's size. Triggers (not Python)
  keep them, so no write path (a bulk import, `ledger copy`, a hand-written UPDATE in the sqlite3 shell)
  can leave them behind. They are derived data: `ledger copy` does not copy them (the target's triggers
  rebuild them), `sarapay ledger check --verify`-style checks can recompute them from consultations.
- On PostgreSQL the triggers are per statement with transition tables (a COPY of a million rows updates
  each bucket once), written here natively (SchemaTarget.execute_native) since SQLite's trigger syntax
  does not translate.
"""

from __future__ import annotations

from typing import Any


# Written out, not taken from records.SUMMED_FIELDS: a step is history and must not change when the field table does.
SUMS = ("authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents")
# (table, key columns, bucket expression over a consultation row `r`)
DAY_TABLE = "consultation_day_sums"
MONTH_TABLE = "consultation_month_sums"
DERIVED_TABLES: tuple[str, ...] = (DAY_TABLE, MONTH_TABLE)
_BUCKETS = (
    (DAY_TABLE, ("state", "day"), ("{r}.state", "substr({r}.scheduled_at, 1, 10)")),
    (MONTH_TABLE, ("rpps", "state", "month"), ("{r}.rpps", "{r}.state", "substr({r}.scheduled_at, 1, 7)")),
)
_WATCHED = ("rpps", "state", "scheduled_at", *SUMS)


def _tables() -> list[str]:
    statements = []
    for table, keys, _ in _BUCKETS:
        columns = ", ".join(f"{key} TEXT NOT NULL" for key in keys)
        sums = ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in ("count", *SUMS))
        statements.append(f"CREATE TABLE {table} ({columns}, {sums}, PRIMARY KEY ({', '.join(keys)}))")
    return statements


def _backfill() -> list[str]:
    statements = []
    for table, keys, exprs in _BUCKETS:
        bucket = [expr.format(r="c") for expr in exprs]
        sums = ", ".join(f"coalesce(sum(c.{name}), 0)" for name in SUMS)
        statements.append(
            f"INSERT INTO {table} ({', '.join(keys)}, count, {', '.join(SUMS)}) "
            f"SELECT {', '.join(bucket)}, count(*), {sums} FROM consultations AS c GROUP BY {', '.join(bucket)}"
        )
    return statements


def _upsert_sets(alias: str) -> str:
    return ", ".join(f"{name} = {alias}{name} + excluded.{name}" for name in ("count", *SUMS))


def _sqlite_triggers() -> list[str]:
    def apply(row: str, sign: str) -> str:
        out = []
        for table, keys, exprs in _BUCKETS:
            values = [expr.format(r=row) for expr in exprs]
            sums = [f"{sign}coalesce({row}.{name}, 0)" for name in SUMS]
            out.append(
                f"INSERT INTO {table} ({', '.join(keys)}, count, {', '.join(SUMS)}) "
                f"VALUES ({', '.join(values)}, {sign}1, {', '.join(sums)}) "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_sets('')};"
            )
        return "\n".join(out)

    return [
        f"CREATE TRIGGER consultation_sums_insert AFTER INSERT ON consultations BEGIN\n{apply('NEW', '')}\nEND",
        f"CREATE TRIGGER consultation_sums_delete AFTER DELETE ON consultations BEGIN\n{apply('OLD', '-')}\nEND",
        f"CREATE TRIGGER consultation_sums_update AFTER UPDATE OF {', '.join(_WATCHED)} ON consultations BEGIN\n"
        f"{apply('OLD', '-')}\n{apply('NEW', '')}\nEND",
    ]


def _postgres_triggers() -> list[str]:
    def apply(sources: list[tuple[str, str]]) -> str:
        out = []
        for table, keys, exprs in _BUCKETS:
            parts = []
            for source, sign in sources:
                values = [expr.format(r="r") for expr in exprs]
                sums = [f"{sign}coalesce(r.{name}, 0)" for name in SUMS]
                parts.append(f"SELECT {', '.join(values)}, {sign}1, {', '.join(sums)} FROM {source} AS r")
            key_names = ", ".join(f"k{i}" for i in range(len(keys)))
            sum_names = ", ".join(f"v{i}" for i in range(len(SUMS) + 1))
            out.append(
                f"INSERT INTO {table} AS s ({', '.join(keys)}, count, {', '.join(SUMS)}) "
                f"SELECT {key_names}, {', '.join(f'sum(v{i})' for i in range(len(SUMS) + 1))} "
                f"FROM ({' UNION ALL '.join(parts)}) AS d ({key_names}, {sum_names}) GROUP BY {key_names} "
                f"HAVING {' OR '.join(f'sum(v{i}) <> 0' for i in range(len(SUMS) + 1))} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_sets('s.')};"
            )
        return "\n".join(out)

    function = (
        "CREATE FUNCTION sarapay_consultation_sums() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        f"  IF TG_OP = 'INSERT' THEN\n{apply([('new_rows', '')])}\n"
        f"  ELSIF TG_OP = 'DELETE' THEN\n{apply([('old_rows', '-')])}\n"
        f"  ELSE\n{apply([('old_rows', '-'), ('new_rows', '')])}\n"
        "  END IF;\n  RETURN NULL;\nEND\n$body$"
    )
    each = "FOR EACH STATEMENT EXECUTE FUNCTION sarapay_consultation_sums()"
    return [
        function,
        f"CREATE TRIGGER consultation_sums_insert AFTER INSERT ON consultations REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER consultation_sums_delete AFTER DELETE ON consultations REFERENCING OLD TABLE AS old_rows {each}",
        "CREATE TRIGGER consultation_sums_update AFTER UPDATE ON consultations "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
    ]


def status_at_scale(db: Any) -> None:
    """Step 0012_status_at_scale (registered by ledger/schema.py)."""
    postgres = getattr(db, "backend", "sqlite") == "postgresql"
    for statement in (
        # Listing indexes, each ending with the tie-breaker `id` (they replace the three of step 0006).
        "DROP INDEX idx_consultations_at",
        "DROP INDEX idx_consultations_state_at",
        "DROP INDEX idx_consultations_rpps_state_at",
        # The summary tables below answer totals; the covering index of step 0007 only cost writes.
        "DROP INDEX idx_consultations_state_sums",
        "CREATE INDEX idx_consultations_at_id ON consultations (scheduled_at, id)",
        "CREATE INDEX idx_consultations_state_at_id ON consultations (state, scheduled_at, id)",
        "CREATE INDEX idx_consultations_rpps_at_id ON consultations (rpps, scheduled_at, id)",
        "CREATE INDEX idx_consultations_rpps_state_at_id ON consultations (rpps, state, scheduled_at, id)",
        "CREATE INDEX idx_consultations_state_deadline ON consultations (state, capture_before, scheduled_at, id)",
        *_tables(),
        *_backfill(),
    ):
        db.execute(statement)
    if postgres:
        for statement in _postgres_triggers():
            db.execute_native(statement)
    else:
        for statement in _sqlite_triggers():
            db.execute(statement)
