"""What typed records cost when a whole ledger is read (`status --limit 0 --json`, `sync --rebuild`).

    .venv/bin/python benchmarks/records.py [--rows 100000] [--runs 5] [--output benchmarks/results/records.txt]

On a generated SQLite ledger (a temporary file), reads every consultation of the listing query
(`Ledger.iter_consultations`'s SQL, newest first) four ways, best of `--runs`:
- tuples: the cursor alone (what SQLite and the driver cost);
- dicts: a dict per row (`store._as_dict`, what the ledger returned before its records);
- records: `Consultation` per row (`Ledger.iter_consultations`, through `Consultation.reader`);
- machine rows: records, then `services.status.machine_row` (the rows `status --json` writes).
Prints seconds and ratios; the figure that matters is records / dicts (the change), then what the
machine rows add. A benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def build(path: Path, rows: int) -> None:
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps

    practitioners = [make_test_rpps(n) for n in range(1, 51)]
    with open_ledger(path) as ledger:
        for rpps in practitioners:
            ledger.upsert_practitioner(rpps, account_id=f"acct_{rpps}", link_method="attached")

        def generated():
            for i in range(rows):
                yield {
                    "id": f"TC-{i:07d}", "rpps": practitioners[i % len(practitioners)],
                    "scheduled_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 10:02d}:{i % 60:02d}:00Z",
                    "state": "succeeded", "paid_online": True, "max_cents": 2500, "authorised_cents": 2500,
                    "captured_cents": 2000, "fee_cents": 55, "net_cents": 1945, "currency": "eur",
                    "account_id": f"acct_{practitioners[i % len(practitioners)]}", "patient_ref": f"P-{i}",
                    "checkout_session_id": f"cs_test_{i}", "payment_intent_id": f"pi_{i}", "capture_before": 1768400000,
                }

        ledger.insert_consultations_many(generated())


def best(runs: int, read) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        count = read()
        times.append(time.perf_counter() - start)
    return min(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    from sarapay.ledger import open_ledger
    from sarapay.ledger.store import Ledger, _as_dict
    from sarapay.services.status import machine_row

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sarapay.db"
        build(path, args.rows)
        with open_ledger(path) as ledger:
            sql, params = Ledger._listing_sql(None, None, None, None, True)

            def tuples() -> int:
                return sum(1 for _ in ledger._conn.execute(sql, params))

            def dicts() -> int:
                cursor = ledger._conn.execute(sql, params)
                return sum(1 for row in cursor if _as_dict(cursor, row))

            def records() -> int:
                return sum(1 for _ in ledger.iter_consultations(newest_first=True))

            def machine_rows() -> int:
                return sum(1 for record in ledger.iter_consultations(newest_first=True) if machine_row(record))

            results = {name: best(args.runs, read) for name, read in
                       (("tuples", tuples), ("dicts", dicts), ("records", records), ("machine rows", machine_rows))}

    lines = [f"benchmarks/records.py: {args.rows} consultations, best of {args.runs}; "
             + describe(f"SQLite {__import__('sqlite3').sqlite_version}")]
    for name, (seconds, count) in results.items():
        assert count == args.rows, (name, count)
        lines.append(f"  {name:<13} {seconds:7.3f} s  ({seconds / results['tuples'][0]:.2f}× tuples)")
    lines.append(f"  records / dicts: {results['records'][0] / results['dicts'][0]:.2f}×")
    lines.append(f"  machine rows / records: {results['machine rows'][0] / results['records'][0]:.2f}×")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
