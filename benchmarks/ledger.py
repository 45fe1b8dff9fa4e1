"""`sarapay status` over a large ledger: 100 000 consultations over 200 practitioners.

    .venv/bin/python benchmarks/ledger.py [--rows 100000] [--runs 15] [--output benchmarks/results/ledger.txt]

Measures, on a generated ledger in a temporary SARAPAY_HOME:
- `status --practitioner RPPS --state S` (the first page and the totals): the real CLI in a subprocess,
  and the service calls in process (services.status.iter_records + totals), for a rare state, a common one,
  and no filter at all (first page of everything, totals over everything). Target: under 300 ms.
- `status --json` of every row, streamed to a pipe that is read and counted: wall time (target: under 3 s)
  and the child's peak RSS (os.wait4), beside the same export of a 10 000-row ledger: if rows were held in
  memory the peak would grow with them. In process, tracemalloc's peak while streaming every row through
  the same service and JSON writer, for both sizes.
- EXPLAIN QUERY PLAN of the listing and totals queries (Ledger.query_plans), to show the indexes used.

A benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PRACTITIONERS = 200
# A plausible mix: most consultations are paid and done; a few are waiting for the act or the patient.
STATES = (
    ("succeeded", 60), ("no_online_payment", 12), ("canceled", 9), ("expired", 5), ("uncaptured", 4),
    ("incomplete", 4), ("refunded", 3), ("partially_refunded", 3),
)


def machine() -> str:
    return describe(f"SQLite {__import__('sqlite3').sqlite_version}")


def generate(path: Path, rows: int, seed: int = 6) -> list[str]:
    """A ledger of `rows` consultations over PRACTITIONERS practitioners; returns their RPPS."""
    from sarapay import ids
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps

    rng = random.Random(seed)
    rpps_list = [make_test_rpps(n) for n in range(1, PRACTITIONERS + 1)]
    codes = [code for code, weight in STATES for _ in range(weight)]
    start = datetime(2025, 1, 1, 7, tzinfo=timezone.utc)
    seen: set[str] = set()

    def consultation(i: int) -> dict:
        while True:
            cid = ids.PREFIX + "".join(rng.choice(ids.ALPHABET) for _ in range(ids.ID_LENGTH))
            if cid not in seen:
                seen.add(cid)
                break
        state = rng.choice(codes)
        paid = state != "no_online_payment"
        max_cents = rng.choice((2500, 2500, 2500, 3000, 5000))
        captured = max_cents - rng.choice((0, 0, 500)) if state in ("succeeded", "refunded", "partially_refunded") else 0
        fee = (captured * 15 + 999) // 1000 + 25 if captured else None
        row = {
            "id": cid,
            "rpps": rng.choice(rpps_list),
            "scheduled_at": (start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))).isoformat(),
            "state": state,
            "paid_online": paid,
            "max_cents": max_cents,
            "patient_ref": f"P{i:07d}",
            "authorised_cents": max_cents if state in ("uncaptured", "succeeded", "refunded", "partially_refunded") else 0,
            "captured_cents": captured,
            "refunded_cents": captured if state == "refunded" else (500 if state == "partially_refunded" else 0),
            "fee_cents": fee,
            "net_cents": captured - fee if fee is not None else None,
        }
        if paid:
            row.update(checkout_session_id=f"cs_test_{i:010d}", payment_intent_id=f"pi_{i:014d}", account_id="acct_bench0000001")
        if state == "uncaptured":
            row["capture_before"] = int(datetime(2026, 12, 8, tzinfo=timezone.utc).timestamp())
        return row

    with open_ledger(path) as ledger:
        with ledger.transaction():
            for rpps in rpps_list:
                ledger.upsert_practitioner(rpps, name=f"Praticien {rpps[-4:]}")
        ledger.insert_consultations_many((consultation(i) for i in range(rows)), note="benchmark")
        ledger._conn.execute("ANALYZE")  # what a long-lived ledger would have; plans below say if it matters
    return rpps_list


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SARAPAY_", "STRIPE_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(SARAPAY_HOME=str(home), PYTHONPYCACHEPREFIX=str(home.parent / "pycache"), NO_COLOR="1",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    return env


def sarapay_argv() -> list[str]:
    script = Path(sys.executable).parent / "sarapay"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sarapay"]


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, bytes written on stdout) of `sarapay ARGS`, stdout read as it comes."""
    start = time.perf_counter()
    proc = subprocess.Popen([*sarapay_argv(), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    size = 0
    assert proc.stdout is not None
    while chunk := proc.stdout.read(1 << 16):
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"sarapay {' '.join(args)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss, size


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, min {min(values) * 1000:.0f} ms"


def in_process(path: Path, filters: dict, runs: int) -> tuple[list[float], int, int]:
    """The service calls `status` makes (first page of 50, totals), timed in process on an open ledger."""
    from sarapay.ledger import open_ledger
    from sarapay.services import status as service
    from sarapay.services.context import Context

    times = []
    with open_ledger(path) as ledger:
        ctx = Context(ledger=ledger)
        parsed = service.parse_filters(**filters)
        for _ in range(runs):
            start = time.perf_counter()
            page = list(service.iter_records(ctx, parsed, limit=50))
            totals = service.totals(ctx, parsed)
            times.append(time.perf_counter() - start)
    return times, len(page), totals.count


def export_in_process(path: Path, *, traced: bool) -> tuple[float, int, int]:
    """(seconds, tracemalloc peak in bytes or 0, rows) of streaming every row as JSON into a counting sink,
    through the same service and writer as `status --json`. Tracing slows Python down: time the untraced run."""
    from sarapay.render import machine
    from sarapay.ledger import open_ledger
    from sarapay.services import status as service
    from sarapay.services.context import Context

    class Sink(io.TextIOBase):
        size = 0

        def write(self, text: str) -> int:
            self.size += len(text)
            return len(text)

    with open_ledger(path) as ledger:
        ctx = Context(ledger=ledger)
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        with redirect_stdout(Sink()):
            count = machine.emit_json_array(service.iter_machine_rows(ctx, service.parse_filters()))
        elapsed = time.perf_counter() - start
        peak = 0
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    return elapsed, peak, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="rows of the comparison ledger (memory)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "ledger.txt",
                        help="where to save the report; '-' not to save")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory(prefix="sarapay-ledger-bench-") as tmp:
        big_home, small_home = Path(tmp) / "big", Path(tmp) / "small"
        big_home.mkdir()
        small_home.mkdir()
        from sarapay import settings

        os.environ["SARAPAY_HOME"] = str(big_home)
        big_path = settings.ledger_path()
        start = time.perf_counter()
        rpps_list = generate(big_path, options.rows)
        generated = time.perf_counter() - start
        os.environ["SARAPAY_HOME"] = str(small_home)
        small_path = settings.ledger_path()
        generate(small_path, options.small)
        os.environ["SARAPAY_HOME"] = str(big_home)

        from sarapay.ledger import open_ledger

        with open_ledger(big_path) as ledger:
            busiest = max(rpps_list, key=lambda r: ledger.count_consultations(rpps=r))
            per = ledger.count_consultations(rpps=busiest)
            per_uncaptured = ledger.count_consultations(rpps=busiest, state="uncaptured")
            plans = {
                "status --practitioner R --state uncaptured": ledger.query_plans(rpps=busiest, state=["uncaptured"]),
                "status --state uncaptured": ledger.query_plans(state=["uncaptured"]),
                "status --practitioner R --state refunded --state partially_refunded": ledger.query_plans(
                    rpps=busiest, state=["refunded", "partially_refunded"]),
                "status --practitioner R --since 2026-01-01": ledger.query_plans(rpps=busiest, since="2026-01-01T00:00:00+01:00"),
                "status (no filter)": ledger.query_plans(),
            }

        say(f"sarapay status over a generated ledger: {options.rows} consultations, {PRACTITIONERS} practitioners "
            f"(generated in {generated:.1f} s with Ledger.insert_consultations_many, {big_path.stat().st_size // 1024} KiB)")
        say(f"machine: {machine()}")
        say(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
        say(f"R = the busiest practitioner: {per} consultations, {per_uncaptured} « Non capturé »")
        say()
        env = env_for(big_home)
        run_child(["status"], env)  # warm-up: bytecode cache, page cache
        say("1. first page (50 rows) and totals; target < 300 ms")
        cases = [
            ("status --practitioner R --state uncaptured", ["--practitioner", busiest, "--state", "uncaptured"],
             {"practitioner": busiest, "states": ["uncaptured"]}),
            ("status --practitioner R --state « Réussi »", ["--practitioner", busiest, "--state", "Réussi"],
             {"practitioner": busiest, "states": ["Réussi"]}),
            ("status --state uncaptured (all practitioners)", ["--state", "uncaptured"], {"states": ["uncaptured"]}),
            ("status (no filter: 100 000 rows in the totals)", [], {}),
        ]
        for label, args, filters in cases:
            cli = [run_child(["status", *args], env)[0] for _ in range(options.runs)]
            service_times, shown, total = in_process(big_path, filters, options.runs)
            say(f"   {label}")
            say(f"      CLI subprocess (whole process):  {ms(cli)}")
            say(f"      service calls in process:        {ms(service_times)}  ({shown} rows shown, totals over {total})")
        say()
        say("2. status --json of every row, streamed to a pipe; target < 3 s, memory independent of the row count")
        small_env = env_for(small_home)
        for label, rows, env_used, path in (("big", options.rows, env, big_path), ("small", options.small, small_env, small_path)):
            runs = [run_child(["status", "--json"], env_used) for _ in range(3)]
            wall = [r[0] for r in runs]
            rss = max(r[1] for r in runs)
            plain_time, _, count = export_in_process(path, traced=False)
            _, peak, _ = export_in_process(path, traced=True)
            say(f"   {rows:>6} rows: CLI {ms(wall)}, {runs[0][2] // 1024} KiB of JSON, child peak RSS {rss // 1024} MiB")
            say(f"          in process: {plain_time:.2f} s for {count} rows, tracemalloc peak {peak / 1024:.0f} KiB")
        say()
        say("3. EXPLAIN QUERY PLAN (Ledger.query_plans: the listing query, then the totals query)")
        for label, plan in plans.items():
            say(f"   {label}")
            for name, steps in plan.items():
                say(f"      {name:8} " + " | ".join(steps))
        say()
        say("reproduce: .venv/bin/python benchmarks/ledger.py")

    if str(options.output) != "-":
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
