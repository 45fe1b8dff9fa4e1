"""`sarapay status` at scale on both backends: SQLite beside PostgreSQL, as ratios.

    .venv/bin/python benchmarks/ledger_backends.py [--rows 100000] [--runs 15] [--database-url URL]
        [--output benchmarks/results/ledger_backends.txt]

Generates the ledger of benchmarks/ledger.py (same seed, same mix of states) in a SQLite file, copies it
into an empty PostgreSQL database with `Ledger.copy_into` (what `sarapay ledger copy` does, timed too),
runs ANALYZE on both, then times in process the service calls `status` makes (first page of 50 and the
totals) for each filter on each backend. Without --database-url a throwaway server is started as the
tests do (tests/pg.py: Debian's `postgresql` package, initdb in a temporary folder, fsync off: a local
server, so the figures leave out the network a team's server adds per query).

A benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import generate, in_process, machine  # noqa: E402  benchmarks/ledger.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway local server)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    from sarapay.ledger import open_ledger

    cluster = None
    url = args.database_url
    if url is None:
        from tests import pg

        cluster, reason = pg.start_or_reason()
        if cluster is None:
            raise SystemExit(f"PostgreSQL could not start: {reason}")
        url = cluster.url(cluster.create_database())
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ledger.db"
            started = time.perf_counter()
            rpps_list = generate(path, args.rows)
            say(f"{machine()}; {args.rows} consultations, {len(rpps_list)} practitioners")
            say(f"generated (SQLite) in {time.perf_counter() - started:.1f} s")
            with open_ledger(path) as source, open_ledger(url) as target:
                started = time.perf_counter()
                source.copy_into(target, audit_target="benchmark")
                say(f"ledger copy SQLite -> PostgreSQL (one transaction, verified): {time.perf_counter() - started:.1f} s")
                target._conn.execute("VACUUM ANALYZE")  # what autovacuum gives a long-lived database (index-only scans)
                version = target._conn._raw.info.server_version
            say(f"PostgreSQL {version // 10000}.{version % 10000}")
            busiest = rpps_list[0]
            cases = {
                "status --practitioner R --state uncaptured": {"practitioner": busiest, "states": ["uncaptured"]},
                "status --state uncaptured": {"states": ["uncaptured"]},
                "status --practitioner R --since 2026-01-01": {"practitioner": busiest, "since": "2026-01-01"},
                "status --state succeeded": {"states": ["succeeded"]},
                "status (no filter)": {},
            }
            say("")
            say(f"{'status variant (page of 50 + totals, in process)':<48} {'SQLite':>9} {'PostgreSQL':>11} {'ratio':>6}")
            for name, filters in cases.items():
                sqlite_times, _, count = in_process(path, filters, args.runs)
                pg_times, _, pg_count = in_process(url, filters, args.runs)
                assert count == pg_count, (name, count, pg_count)
                a, b = statistics.median(sqlite_times) * 1000, statistics.median(pg_times) * 1000
                say(f"{name:<48} {a:>7.1f} ms {b:>8.1f} ms {b / a:>5.1f}x")
            say("")
            say(f"medians of {args.runs} runs; ratio = PostgreSQL / SQLite")
    finally:
        if cluster is not None:
            cluster.stop()
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
