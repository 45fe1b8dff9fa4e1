"""What `sarapay reconcile` costs on Stripe, beside the one-retrieve-per-consultation approach, measured in the same run.

    .venv/bin/python benchmarks/reconcile.py [--practitioners 50] [--consultations 10000] [--open 500]
                                             [--latency-ms 50] [--output benchmarks/results/reconcile.txt]

The sandbox runs in its own process (`python -m sarapay.sandbox serve --port 0`), as Stripe would. Seeding
goes through the ordinary API with no latency: every practitioner linked over OAuth, then per practitioner
(consultations − open) / practitioners consultations that are final by the time reconcile runs (half paid
and captured, half links left to run out), the sandbox clock moved three days on, then the open ones (60 %
with a card hold waiting for capture, 40 % with a link nobody has paid yet). The client's ledger gets the
matching rows, as plan / capture would have left them. Then every API request gets --latency-ms more
(a `latency` fault on every request: the sandbox's own switch) and three runs are timed on copies of the
same ledger, with the sandbox's request log read after each:

- `reconcile` (services.reconcile, in process), then the same command again (the idempotent second run);
- the real program, `python -m sarapay reconcile --json`, in a subprocess (what cron runs: start-up included);
- the naive approach: `refresh.refresh_consultation` for each open consultation, one after the other
  (a retrieve of the session and one of the PaymentIntent each, as `status --refresh` does).

Goal: requests ≤ one per account with open items + one per extra hundred listed sessions, and under 2 s.
A benchmark prints figures; nothing here asserts a time (tests check behaviour, not speed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_benchmarkReconcile0"
CLIENT_ID = "ca_benchmarkReconcile0"
DAY = 86400


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def start_sandbox(log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=open(log, "w"), text=True, cwd=ROOT,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("SANDBOX_URL="):
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {line!r} (see {log})")
    return proc, line.split("=", 1)[1]


def environment(home: Path, url: str) -> None:
    os.environ.update(
        SARAPAY_HOME=str(home), STRIPE_API_KEY=KEY, SARAPAY_CLIENT_ID=CLIENT_ID, SARAPAY_API_BASE=url,
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    for name in ("SARAPAY_KEY_FILE", "SARAPAY_LANG"):
        os.environ.pop(name, None)


def seed(args, sandbox, url: str) -> dict:
    """Practitioners, Stripe objects and ledger rows; returns counts and seeding times."""
    from sarapay import ids, settings, statuses
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps
    from sarapay.services import refresh
    from sarapay.stripe_gateway import Gateway

    pool = ThreadPoolExecutor(max_workers=8)
    local_gateways: dict[int, Gateway] = {}

    def gateway() -> Gateway:
        import threading

        ident = threading.get_ident()
        if ident not in local_gateways:
            local_gateways[ident] = Gateway(KEY, client_id=CLIENT_ID, api_base=url)
        return local_gateways[ident]

    def link(n: int) -> tuple[str, str]:
        gw = gateway()
        consent = sandbox.oauth_authorize(gw.oauth_authorize_url(f"bench-{n}"))
        return make_test_rpps(n + 1), gw.oauth_token(consent["code"])["stripe_user_id"]

    started = time.perf_counter()
    practitioners = list(pool.map(link, range(args.practitioners)))
    per_final = (args.consultations - args.open) // args.practitioners
    per_open = args.open // args.practitioners
    timings = {"link": time.perf_counter() - started}
    say(f"seeding: {len(practitioners)} practitioners linked")

    def create(job: tuple[str, str, str, int]) -> dict:
        rpps, account, cid, scheduled = job
        return gateway().create_checkout_session(
            account, amount_cents=2500, consultation_id=cid, rpps=rpps, expires_at=None,
            success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/ko",
            idempotency_key=ids.idempotency_key("checkout", cid, "first"),
            scheduled_at=datetime.fromtimestamp(scheduled, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def pay_and_capture(job: tuple[str, dict]) -> dict:
        account, session = job
        pi = sandbox.pay(session["id"])["payment_intent"]
        return gateway().capture(account, pi["id"], None, idempotency_key=ids.idempotency_key("capture", pi["id"]))

    def jobs(count: int, base: int) -> list[tuple[str, str, str, int]]:
        return [(rpps, account, ids.new_consultation_id(), base + 3600 * (i % 48))
                for rpps, account in practitioners for i in range(count)]

    # Day 0: what is final by reconcile time.
    started = time.perf_counter()
    now = sandbox.now()
    final_jobs = jobs(per_final, now + 3600)
    final_sessions = list(pool.map(create, final_jobs))
    timings["final_sessions"] = time.perf_counter() - started
    say(f"seeding: {len(final_sessions)} sessions created; paying and capturing half of them (the slow part)")
    started = time.perf_counter()
    captured = list(pool.map(pay_and_capture, [(job[1], s) for job, s in zip(final_jobs[::2], final_sessions[::2])]))
    timings["final_captures"] = time.perf_counter() - started
    started = time.perf_counter()
    sandbox.advance(3 * DAY)  # the unpaid links run out
    timings["advance"] = time.perf_counter() - started

    # Day 3: what reconcile has to look at.
    started = time.perf_counter()
    open_jobs = jobs(per_open, sandbox.now() + 3600)
    open_sessions = list(pool.map(create, open_jobs))
    held = [s for i, s in enumerate(open_sessions) if i % 10 < 6]  # 60 % with a card hold, 40 % unpaid
    list(pool.map(lambda s: sandbox.pay(s["id"]), held))
    timings["open"] = time.perf_counter() - started
    say(f"seeding: {len(open_sessions)} open consultations, {len(held)} of them with a card hold; writing the ledger")
    pool.shutdown()

    started = time.perf_counter()
    by_pi = {c["id"]: c for c in captured}
    with open_ledger(settings.ledger_path()) as ledger:
        with ledger.transaction():
            for rpps, account in practitioners:
                ledger.upsert_practitioner(rpps, name=f"Dr {rpps[-4:]}", account_id=account, link_method="oauth",
                                           linked_at=datetime.now(timezone.utc))
            for (rpps, account, cid, scheduled), session in zip(final_jobs + open_jobs, final_sessions + open_sessions):
                ledger.insert_consultation(
                    cid, rpps=rpps, scheduled_at=datetime.fromtimestamp(scheduled, timezone.utc), paid_online=True,
                    max_cents=2500, account_id=account, checkout_session_id=session["id"], state=statuses.INCOMPLETE,
                    link_expires_at=int(session["expires_at"]),
                )
            # The final ones as capture and earlier reconciles left them (the one mapping, from Stripe's answers).
            pis = {p["metadata"]["consultation_id"]: p for p in by_pi.values()}
            for (_, _, cid, _), session in zip(final_jobs, final_sessions):
                row = ledger.get_consultation(cid)
                if cid in pis:
                    refresh.apply_stripe_state(ledger, row, {**session, "status": "complete"}, pis[cid], refresh.now())
                else:
                    refresh.apply_stripe_state(ledger, row, {**session, "status": "expired"}, None, refresh.now())
        counts = {state: ledger.count_consultations(state=state) for state in statuses.CODES}
    timings["ledger"] = time.perf_counter() - started
    return {"practitioners": len(practitioners), "counts": {k: v for k, v in counts.items() if v}, "timings": timings,
            "open_accounts": len(practitioners)}


def api_calls(sandbox) -> list[dict]:
    return sandbox.requests()


def summarise(calls: list[dict]) -> dict:
    lists = sum(1 for c in calls if c["method"] == "GET" and c["path"] in ("/v1/checkout/sessions", "/v1/payment_intents"))
    retrieves = sum(1 for c in calls if c["method"] == "GET" and c["path"].rsplit("/", 1)[-1].startswith(("cs_", "pi_", "ch_")))
    return {"requests": len(calls), "lists": lists, "retrieves": retrieves,
            "accounts": len({c["account"] for c in calls}), "429": sum(1 for c in calls if c["status"] == 429)}


def measure(label: str, sandbox, fn) -> dict:
    sandbox.clear_requests()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    figures = summarise(api_calls(sandbox))
    figures.update(label=label, seconds=elapsed, result=result)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practitioners", type=int, default=50)
    parser.add_argument("--consultations", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--output", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sarapay-bench-"))
    proc, url = start_sandbox(work / "sandbox.log")
    try:
        environment(work / "home", url)
        from sarapay import settings
        from sarapay.ledger import open_ledger
        from sarapay.sandbox_control import SandboxControl
        from sarapay.services import reconcile, refresh
        from sarapay.services.context import Context

        sandbox = SandboxControl(url, timeout=120)
        started = time.perf_counter()
        seeded = seed(args, sandbox, url)
        seed_seconds = time.perf_counter() - started
        ledger_file = settings.ledger_path()
        pristine = work / "pristine.db"
        with open_ledger(ledger_file) as ledger:
            ledger.vacuum_into(pristine)

        def fresh_ledger() -> None:
            for suffix in ("", "-wal", "-shm"):
                ledger_file.with_name(ledger_file.name + suffix).unlink(missing_ok=True)
            shutil.copy(pristine, ledger_file)
            os.chmod(ledger_file, 0o600)

        sandbox.fault("latency", 10**9, latency_ms=args.latency_ms)

        def run_reconcile() -> dict:
            with Context() as ctx:
                report = reconcile.reconcile(ctx)
            return {"checked": report.checked, "changes": len(report.changes), "items": len(report.items),
                    "accounts": report.accounts}

        def run_command() -> dict:
            done = subprocess.run([sys.executable, "-m", "sarapay", "reconcile", "--json"], capture_output=True, text=True,
                                  cwd=ROOT, env=os.environ.copy(), timeout=600)
            document = json.loads(done.stdout)
            return {"exit": done.returncode, "checked": document["checked"], "changes": len(document["changes"])}

        def run_naive() -> dict:
            with Context() as ctx:
                rows = ctx.ledger.non_final()
                changed = sum(1 for row in rows if refresh.refresh_consultation(ctx, row).state != row.state)
            return {"checked": len(rows), "changes": changed}

        fresh_ledger()
        first = measure("reconcile (services, in process)", sandbox, run_reconcile)
        second = measure("reconcile again (nothing changed)", sandbox, run_reconcile)
        fresh_ledger()
        command = measure("python -m sarapay reconcile --json", sandbox, run_command)
        fresh_ledger()
        naive = measure("one retrieve per consultation", sandbox, run_naive)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    open_count = args.open
    goal_requests = seeded["open_accounts"] + max(0, (open_count - seeded["open_accounts"] * 100) // 100)
    lines = [
        f"sarapay reconcile benchmark — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs",
        f"data: {seeded['practitioners']} practitioners, {sum(seeded['counts'].values())} consultations "
        f"({', '.join(f'{k} {v}' for k, v in seeded['counts'].items())}); sandbox latency {args.latency_ms} ms per request",
        f"seeding: {seed_seconds:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in seeded['timings'].items())})",
        f"goal: ≤ {goal_requests} requests (one per account with open items + one per extra hundred), < 2 s",
        "",
        f"{'approach':<38} {'wall s':>7} {'requests':>9} {'lists':>6} {'retrieves':>10} {'429':>4}  result",
    ]
    for figures in (first, second, command, naive):
        lines.append(
            f"{figures['label']:<38} {figures['seconds']:>7.2f} {figures['requests']:>9} {figures['lists']:>6} "
            f"{figures['retrieves']:>10} {figures['429']:>4}  {figures['result']}"
        )
    lines.append("")
    lines.append(f"ratio (naive / reconcile): {naive['seconds'] / first['seconds']:.0f}× the time, "
                 f"{naive['requests'] / max(first['requests'], 1):.0f}× the requests")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
