"""`sarapay status`, id completion and the big listings at scale, on SQLite and PostgreSQL (issue 10, point 8).

    .venv/bin/python benchmarks/ledger_backends.py [--sizes 100000,1000000] [--runs 5] [--database-url URL]
        [--output benchmarks/results/ledger_backends.md]

For each size, a ledger is built on both backends through the ledger's own tables (schema migrated by
`open_ledger`, then one transaction of executemany on SQLite, COPY on PostgreSQL; the summary tables are
kept by sarapay's own triggers during the load), with 100 000 audit entries. Nothing runs ANALYZE by hand:
the plans are those sarapay gets by itself. Without --database-url a throwaway server is started as the
tests do (tests/pg.py: initdb in a temporary folder, fsync off, local: a team's server adds its network
round trip to each query).

Measured: the real CLI in a subprocess (what a person waits for: start-up, connection, queries, output),
fastest of --runs runs interleaved with the same command on an EMPTY ledger of the same backend (the
baseline the goal is stated against: within 1.3x), and PostgreSQL against SQLite (goal: within 1.5x); beside
it, the ledger queries the command makes, timed in process (fastest of 20), where a full scan would show.
`status --limit 0` and `log -n 100000` are written to a pipe that is read and counted; their peak RSS
(os.wait4) says whether memory stays flat when the ledger grows tenfold.

A benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402  benchmarks/machine.py

PRACTITIONERS = 200
AUDIT_ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", 100_000))
# Older consultations: most paid and done. Holds (« Non capturé ») only in the last 7 days (Stripe's
# authorisation lives a week), payment links waiting (« Incomplet ») only from today on, as in a real ledger.
PAST_STATES = (
    ("succeeded", 62), ("no_online_payment", 12), ("canceled", 9), ("expired", 5), ("refunded", 3),
    ("partially_refunded", 3),
)
RECENT_STATES = (("uncaptured", 30), ("succeeded", 55), ("canceled", 5), ("no_online_payment", 10))
FUTURE_STATES = (("incomplete", 80), ("no_online_payment", 20))
COMMANDS = ("capture", "refund", "cancel", "plan", "pay-link", "reconcile", "status.refresh")
CONSULTATION_COLUMNS = (
    "id", "rpps", "scheduled_at", "paid_online", "max_cents", "patient_ref", "account_id", "checkout_session_id",
    "payment_intent_id", "state", "authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents",
    "capture_before", "created_at", "updated_at",
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rows_of(rows: int, rpps_list: list[str], now: datetime, seed: int = 10):
    """(consultation rows, history rows) as tuples in CONSULTATION_COLUMNS order: two years back, a month ahead."""
    from sarapay import ids

    rng = random.Random(seed)
    weights = {name: [c for c, w in table for _ in range(w)] for name, table in
               (("past", PAST_STATES), ("recent", RECENT_STATES), ("future", FUTURE_STATES))}
    alphabet, seen = ids.ALPHABET, set()
    span = int((timedelta(days=730) + timedelta(days=30)).total_seconds() // 60)
    start = now - timedelta(days=730)
    stamp = iso(now)
    # In date order, as a ledger grows (and each index is appended to rather than written all over).
    minutes = sorted(rng.randrange(span) for _ in range(rows))
    for i in range(rows):
        while True:
            n = rng.getrandbits(32)
            cid = ids.PREFIX + "".join(alphabet[(n >> (5 * k)) % len(alphabet)] for k in range(ids.ID_LENGTH))
            if cid not in seen:
                seen.add(cid)
                break
        at = start + timedelta(minutes=minutes[i])
        age = now - at
        state = rng.choice(weights["future" if age < timedelta(0) else "recent" if age < timedelta(days=7) else "past"])
        paid = state != "no_online_payment"
        max_cents = rng.choice((2500, 2500, 2500, 3000, 5000))
        captured = max_cents - rng.choice((0, 0, 500)) if state in ("succeeded", "refunded", "partially_refunded") else 0
        fee = (captured * 15 + 999) // 1000 + 25 if captured else None
        held = state in ("uncaptured", "succeeded", "refunded", "partially_refunded")
        yield (
            cid, rng.choice(rpps_list), iso(at), int(paid), max_cents, f"P{i:07d}",
            "acct_bench0000001" if paid else None, f"cs_test_{i:010d}" if paid else None,
            f"pi_{i:014d}" if paid else None, state, max_cents if held else 0, captured,
            captured if state == "refunded" else (500 if state == "partially_refunded" else 0), fee,
            None if fee is None else captured - fee,
            int((at + timedelta(days=7)).timestamp()) if state == "uncaptured" else None, stamp, stamp,
        ), (cid, stamp, state, "benchmark")


def audit_rows(count: int, now: datetime, seed: int = 11):
    rng = random.Random(seed)
    for i in range(count):
        yield (iso(now - timedelta(seconds=count - i)), "bench", rng.choice(COMMANDS), f"TC-{i:06d}"[:9],
               rng.choice(("ok", "ok", "ok", "refused")), f"capture {rng.choice((2000, 2500))} sarapay:capture:{i}", None)


def build(target, rows: int, now: datetime) -> tuple[list[str], str, float]:
    """Fills an empty ledger (a SQLite path or a PostgreSQL URL); returns (RPPS list, one consultation id, seconds)."""
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps

    rpps_list = [make_test_rpps(n) for n in range(1, PRACTITIONERS + 1)]
    started = time.perf_counter()
    first = None
    with open_ledger(target) as ledger:
        with ledger.transaction():
            for rpps in rpps_list:
                ledger.upsert_practitioner(rpps, name=f"Praticien {rpps[-4:]}")
        consultations = ", ".join(CONSULTATION_COLUMNS)
        audit = "at, actor, command, target, outcome, detail, stripe_request_id"
        history = "consultation_id, at, state, note"
        generated = rows_of(rows, rpps_list, now)
        if ledger.is_postgres:
            raw = ledger._conn._raw
            with raw.transaction(), raw.cursor() as cursor:
                kept = []
                with cursor.copy(f"COPY consultations ({consultations}) FROM STDIN") as copy:
                    for row, line in generated:
                        copy.write_row(row)
                        kept.append(line)
                with cursor.copy(f"COPY consultation_history ({history}) FROM STDIN") as copy:
                    for line in kept:
                        copy.write_row(line)
                with cursor.copy(f"COPY audit_log ({audit}) FROM STDIN") as copy:
                    for line in audit_rows(AUDIT_ROWS, now):
                        copy.write_row(line)
            first = kept[rows // 2][0]
        else:
            # A cache as large as the ledger: the one big transaction then writes each page once, at COMMIT.
            ledger._conn.execute("PRAGMA cache_size = -2000000")
            with ledger.transaction():
                conn = ledger._conn
                marks = ", ".join("?" * len(CONSULTATION_COLUMNS))
                kept = []

                def consultations_only():
                    for row, line in generated:
                        kept.append(line)
                        yield row

                conn.executemany(f"INSERT INTO consultations ({consultations}) VALUES ({marks})", consultations_only())
                conn.executemany(f"INSERT INTO consultation_history ({history}) VALUES (?, ?, ?, ?)", kept)
                conn.executemany(f"INSERT INTO audit_log ({audit}) VALUES (?, ?, ?, ?, ?, ?, ?)", audit_rows(AUDIT_ROWS, now))
            first = kept[rows // 2][0]
    return rpps_list, first, time.perf_counter() - started


def build_apart(target, rows: int, now: datetime) -> tuple[str, str, float]:
    """build() in a child process: this one stays small, so its children's peak RSS is their own (Linux
    counts the parent's pages at fork in a child's ru_maxrss)."""
    import json

    done = subprocess.run(
        [sys.executable, __file__, "--build", str(target), str(rows), now.isoformat()],
        capture_output=True, text=True, check=True,
    )
    rpps, one, seconds = json.loads(done.stdout.splitlines()[-1])
    return rpps, one, seconds


def env_for(home: Path, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SARAPAY_", "STRIPE_", "_SARAPAY_", "COMP_"))}
    env.update(SARAPAY_HOME=str(home), NO_COLOR="1", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               PYTHONPYCACHEPREFIX=str(home.parent / "pycache"))
    if url:
        env["SARAPAY_DATABASE_URL"] = url
    return env


def sarapay_argv() -> list[str]:
    script = Path(sys.executable).parent / "sarapay"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sarapay"]


def run(args: list[str], env: dict[str, str], extra_env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
        ) -> tuple[float, int, int, bytes]:
    """(seconds, peak RSS in KiB, bytes on stdout, first bytes) of `sarapay ARGS`, stdout read as it comes."""
    started = time.perf_counter()
    proc = subprocess.Popen([*sarapay_argv(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**env, **(extra_env or {})})
    size, head = 0, b""
    assert proc.stdout is not None and proc.stderr is not None
    while chunk := proc.stdout.read(1 << 16):
        if len(head) < 4096:
            head += chunk[:4096]
        size += len(chunk)
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"sarapay {' '.join(args)} exited {code}: {errors.decode(errors='replace')[-500:]}")
    return elapsed, usage.ru_maxrss, size, head


def in_process(target, argv: list[str], extra: dict[str, str] | None, runs: int) -> float:
    """Fastest of `runs` of what the command asks the ledger (seconds), on one open ledger: the queries alone,
    without Python's start-up, the connection and the printing the CLI figures include."""
    from sarapay.ledger import open_ledger
    from sarapay.services import status as service
    from sarapay.services.context import Context
    from sarapay.services.practitioners import disconnected

    best = float("inf")
    with open_ledger(target, read_only=extra is not None) as ledger:
        ctx = Context(ledger=ledger)
        for _ in range(runs):
            started = time.perf_counter()
            if extra is not None:  # completion: the words after `sarapay capture`
                ledger.consultation_ids_starting(extra["COMP_WORDS"].split()[-1], 100)
            elif len(argv) == 2 and argv[1].startswith("TC-"):
                if ledger.get_consultation(argv[1]) is not None:
                    ledger.history(argv[1])
                    ledger.money_moves(argv[1])
            else:
                words = argv[1:]
                options = {"practitioner": None, "states": [], "since": None}
                while words:
                    flag, value, *words = words
                    if flag == "--state":
                        options["states"].append(value)
                    else:
                        options[flag[2:]] = value
                filters = service.parse_filters(**options)
                list(service.iter_attention(ctx, filters, limit=50))
                disconnected(ctx, filters.rpps)
                service.totals(ctx, filters)
            best = min(best, time.perf_counter() - started)
    return best


def completion(word: str) -> tuple[list[str], dict[str, str]]:
    return [], {"_SARAPAY_COMPLETE": "complete_bash", "COMP_WORDS": f"sarapay capture {word}", "COMP_CWORD": "2"}


def main() -> None:
    if sys.argv[1:2] == ["--build"]:  # build_apart's child
        import json

        target, rows, now = sys.argv[2], int(sys.argv[3]), datetime.fromisoformat(sys.argv[4])
        rpps_list, one, seconds = build(target if "://" in target else Path(target), rows, now)
        print(json.dumps([rpps_list[0], one, seconds]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="ledger sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", help="a PostgreSQL server's URL whose databases may be created (default: a throwaway local server)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "ledger_backends.md",
                        help="where to save the markdown report; '-' not to save")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    cluster = None
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def database() -> str:
        if cluster is not None:
            return cluster.url(cluster.create_database())
        import psycopg

        name = f"sarapay_bench_{os.getpid()}_{len(created)}"
        with psycopg.connect(options.database_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        created.append(name)
        base = options.database_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    created: list[str] = []
    if options.database_url is None:
        from tests import pg

        cluster, reason = pg.start_or_reason()
        if cluster is None:
            raise SystemExit(f"PostgreSQL could not start: {reason}")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    from sarapay.timefmt import PARIS

    month_start = now.astimezone(PARIS).strftime("01/%m/%Y")
    try:
        with tempfile.TemporaryDirectory(prefix="sarapay-backends-") as tmp:
            from sarapay.ledger import open_ledger

            ledgers: dict[tuple[str, int], dict[str, str]] = {}
            targets: dict[tuple[str, int], object] = {}
            facts: dict[int, tuple[str, str]] = {}
            version = ""
            for size in [0, *sizes]:
                home = Path(tmp) / f"home{size}"
                home.mkdir()
                from sarapay import settings

                os.environ["SARAPAY_HOME"] = str(home)
                sqlite_path = settings.ledger_path()  # where `sarapay` run with SARAPAY_HOME=home looks
                os.environ.pop("SARAPAY_HOME")
                url = database()
                for backend, target in (("SQLite", sqlite_path), ("PostgreSQL", url)):
                    if size:
                        rpps, one, seconds = build_apart(target, size, now)
                        say(f"built {size} consultations + {AUDIT_ROWS} audit entries on {backend} in {seconds:.1f} s")
                        facts[size] = (rpps, one)
                    else:
                        with open_ledger(target) as ledger:  # an empty, migrated ledger
                            if ledger.is_postgres:
                                server = ledger._conn._raw.info.server_version
                                version = f"PostgreSQL {server // 10000}.{server % 10000}"
                    ledgers[(backend, size)] = env_for(home, url if backend == "PostgreSQL" else None)
                    targets[(backend, size)] = url if backend == "PostgreSQL" else sqlite_path

            rpps, one = facts[sizes[0]]
            cases: list[tuple[str, list[str], dict[str, str] | None]] = [
                ("status --practitioner R", ["status", "--practitioner", rpps], None),
                ("status (no filter, totals over all)", ["status"], None),
                (f"status --since {month_start} (this month)", ["status", "--since", month_start], None),
                ("status --state succeeded", ["status", "--state", "succeeded"], None),
                ("status --state refunded --state partially_refunded", ["status", "--state", "refunded", "--state", "partially_refunded"], None),
                ("status TC-… (one consultation)", ["status", one], None),
                ("TAB: sarapay capture TC-<TAB>", *completion("TC-")),
                ("TAB: sarapay capture TC-8F<TAB>", *completion("TC-8F")),
            ]
            times: dict[tuple[str, str, int], list[float]] = {}

            def argv_for(label: str, args: list[str], size: int) -> list[str]:
                if label.startswith("status TC-"):
                    return ["status", facts[size][1] if size else one]
                if label.startswith("status --practitioner") and size:
                    return ["status", "--practitioner", facts[size][0]]
                return args

            configs = [(backend, size) for backend in ("SQLite", "PostgreSQL") for size in (0, *sizes)]
            for backend, size in configs:  # warm-up: bytecode cache, page cache, the server's buffers
                run(["status"], ledgers[(backend, size)])
            for _ in range(options.runs):
                for label, args, extra in cases:
                    for backend, size in configs:
                        # The one consultation of each ledger is its own (the empty ledger answers "unknown": exit 2).
                        argv = argv_for(label, args, size)
                        # On the empty ledger, `status TC-…` looks the id up and says it is unknown (exit 2).
                        times.setdefault((label, backend, size), []).append(
                            run(argv, ledgers[(backend, size)], extra, ok=(0, 2) if not size else (0,))[0])
            queries: dict[tuple[str, str, int], float] = {}
            for label, args, extra in cases:
                for backend, size in configs:
                    target = targets[(backend, size)]
                    queries[(label, backend, size)] = in_process(target, argv_for(label, args, size), extra, 20)

            def ms(key: tuple[str, str, int]) -> float:
                return min(times[key]) * 1000  # the fastest run: the least disturbed by other processes

            say()
            say(f"{describe(version)}; {PRACTITIONERS} practitioners; {now:%Y-%m-%d %H:%M} UTC")
            say()
            say("## The CLI at scale: wall time of the whole command, ratio to the same command on an empty ledger "
                "(goal ≤ 1.3×), PostgreSQL / SQLite (goal ≤ 1.5×)")
            say()
            say("Each cell: the CLI's time (its ratio to the empty ledger) / the ledger queries alone, in process.")
            say()
            head = ["command"] + [f"{b} {s:,}".replace(",", " ") for b in ("SQLite", "PostgreSQL") for s in sizes] + \
                [f"PG/SQLite {s:,}".replace(",", " ") for s in sizes]
            say("| " + " | ".join(head) + " |")
            say("|" + "---|" * len(head))
            for label, _, _ in cases:
                cells = [label]
                for backend in ("SQLite", "PostgreSQL"):
                    for size in sizes:
                        value, empty = ms((label, backend, size)), ms((label, backend, 0))
                        query, query_empty = queries[(label, backend, size)] * 1000, queries[(label, backend, 0)] * 1000
                        cells.append(f"{value:.0f} ms ({value / empty:.2f}×) / {query:.1f} ms (empty: {query_empty:.1f})")
                for size in sizes:
                    cells.append(f"{ms((label, 'PostgreSQL', size)) / ms((label, 'SQLite', size)):.2f}×")
                say("| " + " | ".join(cells) + " |")
            say()
            say("empty-ledger baselines: " + ", ".join(
                f"{backend} {ms((cases[1][0], backend, 0)):.0f} ms" for backend in ("SQLite", "PostgreSQL")) + " (`status`)")
            say()
            say("## Huge listings into a pipe: wall time, bytes, peak RSS of the process (flat memory: the same at every size)")
            say()
            say("| command | backend | " + " | ".join(f"{s:,}".replace(",", " ") for s in sizes) + " |")
            say("|---|---|" + "---|" * len(sizes))
            for label, args in (("status --limit 0", ["status", "--limit", "0"]), ("log -n 100000", ["log", "-n", "100000"])):
                for backend in ("SQLite", "PostgreSQL"):
                    cells = []
                    for size in sizes:
                        seconds, rss, size_out, _ = run(args, ledgers[(backend, size)])
                        cells.append(f"{seconds:.1f} s, {size_out / 1e6:.0f} MB, {rss / 1024:.0f} MiB")
                    say(f"| {label} | {backend} | " + " | ".join(cells) + " |")
            say()
            say(f"CLI: fastest of {options.runs} interleaved runs; in process: fastest of 20; "
                "reproduce: .venv/bin/python benchmarks/ledger_backends.py")
    finally:
        if cluster is not None:
            cluster.stop()
        elif created:
            import psycopg

            with psycopg.connect(options.database_url, autocommit=True) as conn:
                for name in created:
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
    if str(options.output) != "-":
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
