"""The webhook receiver: events applied per second with 4 concurrent senders, and the time from a dashboard
refund to the ledger showing it.

    .venv/bin/python benchmarks/webhooks.py [--consultations 100] [--refunds 20] [--senders 4]
                                            [--output benchmarks/results/webhooks.txt]

The sandbox and the receiver each run in their own process (`python -m sarapay.sandbox serve --port 0`,
`python -m sarapay webhooks serve --port N`), as on a server; everything is on loopback.

1. Throughput: `--consultations` consultations are planned with online payment and paid (a card hold each)
   before any endpoint exists; the account's events (checkout.session.completed,
   payment_intent.amount_capturable_updated, payment_intent.created, charge.succeeded...) are then read from
   the API and POSTed, signed with the endpoint's secret, by `--senders` threads at once. Each event is
   verified, recorded, and (for a payment event) its consultation read from Stripe and written: the figure is
   events answered 2xx per second, with the outcomes (applied / already_known / ignored). The same events sent
   a second time measure the replay path (recognised by id, nothing read from Stripe).
2. Latency: the endpoint registered in the sandbox; `--refunds` captured consultations are refunded one at a
   time through the API with the account header, as the practitioner's dashboard does, and the ledger is
   polled every 5 ms until it shows the refund. Goal: median under 1 s.

A benchmark prints figures; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_benchmarkWebhooks0"
CLIENT_ID = "ca_benchmarkWebhooks0"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consultations", type=int, default=100)
    parser.add_argument("--refunds", type=int, default=20)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "webhooks.txt"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sarapay-bench-webhooks-"))
    sandbox_proc = subprocess.Popen([sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=open(work / "sandbox.log", "w"), text=True, cwd=ROOT)
    url = sandbox_proc.stdout.readline().strip().split("=", 1)[1]
    os.environ.update(SARAPAY_HOME=str(work / "home"), STRIPE_API_KEY=KEY, SARAPAY_CLIENT_ID=CLIENT_ID,
                      SARAPAY_API_BASE=url, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
                      PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                      SARAPAY_WEBHOOK_SECRET_FILE=str(work / "webhook-secret"))
    from typer.testing import CliRunner

    from sarapay import credentials, settings
    from sarapay.cli import app
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps
    from sarapay.sandbox_control import SandboxControl
    from sarapay.stripe_gateway import Gateway

    runner = CliRunner()

    def run(*argv: str) -> str:
        result = runner.invoke(app, list(argv), catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    sandbox = SandboxControl(url)
    gateway = Gateway(KEY, client_id=CLIENT_ID, api_base=url)
    consent = sandbox.oauth_authorize(gateway.oauth_authorize_url("bench"))
    account = gateway.oauth_token(consent["code"])["stripe_user_id"]
    rpps = make_test_rpps(1)
    run("link", rpps, "--account", account)

    say(f"seeding {args.consultations} paid consultations…")
    ids = []
    for i in range(args.consultations + args.refunds):
        doc = json.loads(run("plan", rpps, "--at", f"01/12/2099 {8 + i // 60:02d}:{i % 60:02d}", "--paid", "--json"))
        with open_ledger(settings.ledger_path()) as book:
            session = book.get_consultation(doc["id"]).checkout_session_id
        sandbox.pay(session)
        ids.append(doc["id"])
    events = []
    params = {"limit": 100}
    while True:
        page = gateway._client.v1.events.list(params=params, options={"stripe_account": account})
        events += [e.to_dict(recursive=True) for e in page.data]
        if not page.has_more:
            break
        params["starting_after"] = page.data[-1].id
    port = free_port()
    run("webhooks", "register", f"http://127.0.0.1:{port}/webhooks/stripe", "--file")
    secret = credentials.webhook_secret_file_path().read_text().strip()
    receiver = subprocess.Popen([sys.executable, "-m", "sarapay", "webhooks", "serve", "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=open(work / "receiver.log", "w"), text=True, cwd=ROOT)
    receiver.stdout.readline()
    sandbox.webhook_settings(paused=True)  # phase 1 sends by hand
    import stripe

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(event: dict) -> int:
        body = json.dumps(event).encode()
        now = int(time.time())
        sig = stripe.WebhookSignature._compute_signature(f"{now}.{body.decode()}", secret)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/stripe", data=body, method="POST",
                                         headers={"Stripe-Signature": f"t={now},v1={sig}", "Content-Type": "application/json"})
        with opener.open(request, timeout=30) as answer:
            return answer.status

    def blast() -> tuple[float, int]:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.senders) as pool:
            statuses = list(pool.map(post, list(reversed(events))))  # oldest first, as Stripe would mostly
        return time.perf_counter() - started, sum(1 for s in statuses if 200 <= s < 300)

    say(f"phase 1: {len(events)} events, {args.senders} senders…")
    first_time, first_ok = blast()
    replay_time, replay_ok = blast()
    outcomes: dict[str, int] = {}
    for line in (work / "receiver.log").read_text().splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            if "event" in doc:
                outcomes[doc["outcome"]] = outcomes.get(doc["outcome"], 0) + 1

    say(f"phase 2: {args.refunds} dashboard refunds…")
    sandbox.webhook_settings(paused=False)
    latencies = []
    for cid in ids[args.consultations:]:
        run("capture", cid, "--yes")
    time.sleep(1)
    for cid in ids[args.consultations:]:
        with open_ledger(settings.ledger_path()) as book:
            pi = book.get_consultation(cid).payment_intent_id
        started = time.perf_counter()
        gateway._client.v1.refunds.create(params={"payment_intent": pi, "amount": 500}, options={"stripe_account": account})
        with open_ledger(settings.ledger_path()) as book:
            while (book.get_consultation(cid).refunded_cents or 0) < 500:
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"{cid}: the refund never reached the ledger")
                time.sleep(0.005)
        latencies.append(time.perf_counter() - started)

    receiver.send_signal(signal.SIGTERM)
    receiver.wait(timeout=30)
    sandbox_proc.terminate()
    lines = [
        f"webhooks benchmark — {time.strftime('%Y-%m-%d %H:%M')} — Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPU(s) (shared)",
        f"command: .venv/bin/python benchmarks/webhooks.py --consultations {args.consultations} "
        f"--refunds {args.refunds} --senders {args.senders}",
        "",
        f"throughput, {len(events)} distinct signed events, {args.senders} concurrent senders:",
        f"  first delivery : {first_ok}/{len(events)} acknowledged in {first_time:.2f} s = {first_ok / first_time:.0f} events/s",
        f"  replayed (dup) : {replay_ok}/{len(events)} acknowledged in {replay_time:.2f} s = {replay_ok / replay_time:.0f} events/s",
        f"  outcomes       : {json.dumps(outcomes, sort_keys=True)}",
        "",
        f"dashboard refund -> ledger (sandbox delivery, {args.refunds} refunds, polled every 5 ms):",
        f"  median {statistics.median(latencies) * 1000:.0f} ms · p90 {sorted(latencies)[int(len(latencies) * 0.9) - 1] * 1000:.0f} ms"
        f" · max {max(latencies) * 1000:.0f} ms   (goal: median < 1 s)",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
