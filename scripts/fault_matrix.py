"""Fault matrix: every money command under every fault, against the embedded sandbox, as a user would run it.

    .venv/bin/python scripts/fault_matrix.py [--only capture,refund] [--faults a,c] [--out FILE]

For each money command (capture, cancel, refund, pay-link, unlink, plan --paid) and each fault
    (a) one 500 then success                    (b) a 429 storm (more 429s than sarapay's retries)
    (c) every answer to that POST lost (drop), then a re-run of the same command without faults
    (d) Ctrl-C: a real SIGINT while the POST is held by the sandbox (latency fault), then a re-run
    (e) two terminals running the same command at the same time (two subprocesses, the POST slowed down
        so that both are in flight together)
it sets up a fresh practitioner and consultation (own SARAPAY_HOME, sandbox reset), runs the real program
(`python -m sarapay ...`) in subprocesses, and reads what Stripe applied from the sandbox itself (its
objects and its request log: an applied request is a 200 that is not an idempotent replay), never from
sarapay's output. Prints a Markdown table and writes it to benchmarks/results/fault_matrix.md.

Everything runs on this machine: its own sandbox process (port 0), its own throwaway homes, a test key.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import describe  # noqa: E402  benchmarks/machine.py

if TYPE_CHECKING:
    from sarapay.records import Consultation

KEY = "sk_test_faultMatrix0000"
CLIENT_ID = "ca_faultMatrix0000"
GOOD_CARD = "4242424242424242"
DAY = 86400
AT = "01/12/2099 10:30"
HOLD_CENTS = 2500  # the practitioner's default maximum: what the patient's card hold is for
REFUND_ARG, REFUND_CENTS = "10", 1000  # a partial refund, so that a second one would show in the total
LATENCY_MS = 1500
STORM = 10  # 429s queued: sarapay retries a 429 three times (4 tries), so the storm outlasts them
DROP_ALL = 10  # drops queued: the first try and the SDK's 2 network retries all lose their answer

COMMANDS = ["capture", "cancel", "refund", "pay-link", "unlink", "plan --paid", "plan --paid → pay-link"]
FAULTS = {
    "a": "(a) one 500, then success",
    "b": "(b) 429 storm",
    "c": "(c) lost answers, then re-run",
    "d": "(d) Ctrl-C, then re-run",
    "e": "(e) two terminals at once",
}
# The POSTs each command's fault is aimed at (prefix match on the path, docs/sandbox.md).
FAULT_PATH = {
    "capture": "/v1/payment_intents/",
    "cancel": "/v1/payment_intents/",
    "refund": "/v1/refunds",
    "pay-link": "/v1/checkout/sessions",  # the old link has expired: the create is pay-link's only POST
    "unlink": "/oauth/deauthorize",
    "plan --paid": "/v1/checkout/sessions",
    "plan --paid → pay-link": "/v1/checkout/sessions",
}
EXIT_MEANING = {0: "ok", 1: "unexpected", 2: "bad input/state", 3: "cancelled", 4: "config", 5: "Stripe refused",
                6: "Stripe unavailable/outcome unknown", 130: "interrupted"}


# --------------------------------------------------------------------------- the world: sandbox, homes, runs


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=open(tmp / "sandbox.stderr.log", "w"), text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("SANDBOX_URL="):
            self.proc.kill()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.split("=", 1)[1]
        from sarapay.sandbox_control import SandboxControl

        self.sb = SandboxControl(self.url)
        self.cells = 0
        self.home: Path | None = None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    # A cell starts from nothing: sandbox reset (clock back to real time), a new SARAPAY_HOME.
    def fresh(self) -> None:
        self.cells += 1
        self.sb.reset()
        self.home = self.tmp / f"home-{self.cells:02d}"
        self.home.mkdir()
        os.environ["SARAPAY_HOME"] = str(self.home)  # the in-process ledger reads (link, counts) use it too

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SARAPAY_", "STRIPE_"))}
        env.update(
            SARAPAY_HOME=str(self.home), STRIPE_API_KEY=KEY, SARAPAY_CLIENT_ID=CLIENT_ID, SARAPAY_API_BASE=self.url,
            NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", SARAPAY_LANG="fr", COLUMNS="200",
        )
        return env

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "sarapay", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())

    @staticmethod
    def finish(proc: subprocess.Popen) -> "Run":
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += "\n(script: killed after 90 s)"
        return Run(proc.returncode, out, err)

    def run(self, *args: str) -> "Run":
        return self.finish(self.start(*args))

    def must(self, *args: str) -> "Run":
        result = self.run(*args)
        if result.code != 0:
            raise RuntimeError(f"setup `sarapay {' '.join(args)}` exited {result.code}: {message_of(result.err)}")
        return result

    # ------------------------------------------------------------------ setup

    def link(self) -> dict[str, str]:
        """A practitioner whose account is connected over real OAuth on the sandbox (as tests/cli/payments_helpers)."""
        from sarapay import settings
        from sarapay.ledger import open_ledger
        from sarapay.rpps import make_test_rpps
        from sarapay.stripe_gateway import Gateway

        gateway = Gateway(KEY, client_id=CLIENT_ID, api_base=self.url)
        consent = self.sb.oauth_authorize(gateway.oauth_authorize_url(f"state-{self.cells}"))
        account = gateway.oauth_token(consent["code"])["stripe_user_id"]
        rpps = make_test_rpps(self.cells)
        with open_ledger(settings.ledger_path()) as book:
            book.upsert_practitioner(rpps, name="Dre Martin", account_id=account, link_method="oauth",
                                     linked_at=datetime.now(timezone.utc))
        return {"rpps": rpps, "account": account}

    def planned(self, doc: dict[str, str]) -> str:
        return json.loads(self.must("plan", doc["rpps"], "--at", AT, "--paid", "--json").out)["id"]

    def held(self, doc: dict[str, str]) -> str:
        cid = self.planned(doc)
        paid = self.sb.pay(self.row(cid).checkout_session_id, GOOD_CARD)
        if paid["outcome"] != "authorized":
            raise RuntimeError(f"the patient's card was not authorised: {paid['outcome']}")
        return cid

    def captured(self, doc: dict[str, str]) -> str:
        cid = self.held(doc)
        self.must("capture", cid, "--yes")
        return cid

    # ------------------------------------------------------------------ reading what happened

    def book(self):
        from sarapay import settings
        from sarapay.ledger import open_ledger

        return open_ledger(settings.ledger_path())

    def row(self, cid: str) -> Consultation | None:
        with self.book() as book:
            return book.get_consultation(cid)

    def stripe(self):
        import stripe

        return stripe.StripeClient(KEY, client_id=CLIENT_ID, base_addresses={"api": self.url, "connect": self.url},
                                   max_network_retries=0, http_client=stripe.UrllibClient())

    def last_seq(self) -> int:
        log = self.sb.requests()
        return log[-1]["seq"] if log else 0

    def applied(self, since: int, match: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """POSTs Stripe really applied: answered 200 (even if the answer was then dropped), not a replay."""
        return [r for r in self.sb.requests(since)
                if r["method"] == "POST" and r["status"] == 200 and not r["replayed"] and match(r)]

    def wait_until_held(self, timeout: float = 30) -> None:
        """The held POST has started once it consumed its latency fault."""
        deadline = time.monotonic() + timeout
        while self.sb.queued_faults():
            if time.monotonic() > deadline:
                raise RuntimeError("the POST never reached the sandbox")
            time.sleep(0.05)

    def wait_logged(self, since: int, path: str, timeout: float = 15) -> None:
        """The held request has ended on the sandbox (it is logged when it ends)."""
        deadline = time.monotonic() + timeout
        while not [r for r in self.sb.requests(since) if r["method"] == "POST" and r["path"].startswith(path)
                   and r["fault"] == "latency"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the interrupted request never ended on the sandbox")
            time.sleep(0.05)


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


_BOX = re.compile(r"^\s*[╭│╰┌└├─┃┏┗]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Þ«(])")


def message_of(stderr: str, limit: int = 110) -> str:
    """The first sentence the user reads on stderr, banner (rich panel) left out, whitespace collapsed."""
    lines = [line for line in stderr.splitlines() if not _BOX.match(line)]
    text = " ".join(" ".join(lines).split())
    if not text:
        return ""
    first = _SENTENCE.split(text, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def euros(cents: int) -> str:
    return f"{cents / 100:.2f} €".replace(".", ",")


# --------------------------------------------------------------------------- per command: set up, run, measure


class Case:
    """One command: how to set it up, its arguments, and what "money moved" means for it."""

    name = ""

    def __init__(self, world: World) -> None:
        self.w = world

    def setup(self) -> None:
        self.doc = self.w.link()

    faults = "abcde"  # the faults this row runs under
    fault = ""  # the one being run, set by cell()

    def args(self) -> list[str]:
        raise NotImplementedError

    def rerun_args(self) -> list[str]:
        """What the user runs after a lost answer or a Ctrl-C: the same command."""
        return self.args()

    def moved(self, since: int) -> tuple[str, bool]:
        """(what Stripe applied, said shortly; True when money moved more than once)."""
        raise NotImplementedError

    def pi(self):
        pi_id = self.w.row(self.cid).payment_intent_id
        return self.w.stripe().v1.payment_intents.retrieve(pi_id, options={"stripe_account": self.doc["account"]})


class Capture(Case):
    name = "capture"

    def setup(self) -> None:
        super().setup()
        self.cid = self.w.held(self.doc)

    def args(self) -> list[str]:
        return ["capture", self.cid, "--yes"]

    def moved(self, since: int) -> tuple[str, bool]:
        n = len(self.w.applied(since, lambda r: r["path"].endswith("/capture")))
        pi = self.pi()
        twice = n > 1 or pi.amount_received > HOLD_CENTS
        return f"captures applied: {n}; received {euros(pi.amount_received)} (PI {pi.status})", twice


class Cancel(Capture):
    name = "cancel"

    def args(self) -> list[str]:
        return ["cancel", self.cid, "--yes"]

    def moved(self, since: int) -> tuple[str, bool]:
        n = len(self.w.applied(since, lambda r: r["path"].endswith("/cancel")))
        pi = self.pi()
        twice = n > 1 or pi.amount_received > 0
        return f"releases applied: {n}; received {euros(pi.amount_received)} (PI {pi.status})", twice


class Refund(Case):
    name = "refund"

    def setup(self) -> None:
        super().setup()
        self.cid = self.w.captured(self.doc)

    def args(self) -> list[str]:
        return ["refund", self.cid, REFUND_ARG, "--yes"]

    def moved(self, since: int) -> tuple[str, bool]:
        pi_id = self.w.row(self.cid).payment_intent_id
        refunds = self.w.stripe().v1.refunds.list(params={"payment_intent": pi_id},
                                                  options={"stripe_account": self.doc["account"]}).data
        amounts = sorted(r.amount for r in refunds)
        total = sum(amounts)
        shown = " + ".join(euros(a) for a in amounts) or "none"
        return f"refunds on Stripe: {len(amounts)} ({shown}) of {euros(REFUND_CENTS)} asked", len(amounts) > 1 or total > REFUND_CENTS


class PayLink(Case):
    name = "pay-link"

    def setup(self) -> None:
        super().setup()
        self.cid = self.w.planned(self.doc)
        self.first_link = self.w.row(self.cid).checkout_session_id
        self.w.sb.advance(2 * DAY)  # the first link (24 h) ran out: pay-link issues a new one

    def args(self) -> list[str]:
        return ["pay-link", self.cid]

    def sessions(self) -> list[Any]:
        page = self.w.stripe().v1.checkout.sessions.list(params={"limit": 100},
                                                         options={"stripe_account": self.doc["account"]})
        return [s for s in page.data if (s.to_dict().get("metadata") or {}).get("consultation_id") == self.cid]

    def moved(self, since: int) -> tuple[str, bool]:
        created = len(self.w.applied(since, lambda r: r["path"] == "/v1/checkout/sessions"))
        sessions = self.sessions()
        open_ = [s for s in sessions if s.status == "open"]
        stored = self.w.row(self.cid).checkout_session_id
        if len(open_) == 1 and stored == open_[0].id:
            in_ledger = "the open one"
        else:
            in_ledger = "the expired first link" if stored == self.first_link else (stored or "none")
        return (f"new sessions created: {created}; open now: {len(open_)} (ledger points to {in_ledger})",
                created > 1 or len(open_) > 1)


class Unlink(Case):
    name = "unlink"

    def args(self) -> list[str]:
        return ["unlink", self.doc["rpps"], "--yes"]

    def moved(self, since: int) -> tuple[str, bool]:
        n = len(self.w.applied(since, lambda r: r["path"] == "/oauth/deauthorize"))
        import stripe

        try:
            self.w.stripe().v1.accounts.retrieve(self.doc["account"])
            connected = "still connected"
        except stripe.StripeError as exc:
            connected = "deauthorized" if exc.code == "account_invalid" or exc.http_status in (401, 403) else f"? {exc.code}"
        with self.w.book() as book:
            linked = book.get_practitioner(self.doc["rpps"]).account_id
        ledger = "linked" if linked else "unlinked"
        return f"deauthorizes applied: {n}; account {connected}; ledger: {ledger}", False


class PlanPaid(Case):
    name = "plan --paid"

    def args(self) -> list[str]:
        return ["plan", self.doc["rpps"], "--at", AT, "--paid"]

    def moved(self, since: int) -> tuple[str, bool]:
        created = len(self.w.applied(since, lambda r: r["path"] == "/v1/checkout/sessions"))
        with self.w.book() as book:
            rows = book.list_consultations(rpps=self.doc["rpps"])
        without = sum(1 for r in rows if not r.checkout_session_id)
        extra = f" ({without} without a stored link)" if without else ""
        text = f"consultations in ledger: {len(rows)}{extra}; sessions created: {created}"
        if len(rows) > 1 and self.fault in "cd" and self.rerun_args() == self.args():
            # No money has moved (nobody paid), but one visit now has two consultations and two payable links.
            text = "⚠ the re-run planned the same visit again — " + text
        elif len(rows) > 1:
            text += " (two plans are two consultations, as for any two plans)"
        return text, False


class PlanThenPayLink(PlanPaid):
    """plan --paid, then what the message of a lost answer advises instead of planning again: pay-link."""

    name = "plan --paid → pay-link"
    faults = "cd"

    def rerun_args(self) -> list[str]:
        with self.w.book() as book:
            [row] = book.list_consultations(rpps=self.doc["rpps"])
        return ["pay-link", row.id]

    def moved(self, since: int) -> tuple[str, bool]:
        text, _ = super().moved(since)
        with self.w.book() as book:
            rows = book.list_consultations(rpps=self.doc["rpps"])
        page = self.w.stripe().v1.checkout.sessions.list(params={"limit": 100},
                                                         options={"stripe_account": self.doc["account"]})
        open_ = [s.id for s in page.data if s.status == "open"]
        stored = [r.checkout_session_id for r in rows]
        where = "the ledger holds it" if len(open_) == 1 and stored == open_ else f"ledger holds {stored}"
        return f"{text}; open: {len(open_)} ({where})", len(open_) > 1


CASES: dict[str, type[Case]] = {c.name: c for c in (Capture, Cancel, Refund, PayLink, Unlink, PlanPaid, PlanThenPayLink)}


# --------------------------------------------------------------------------- the faults


def fault_a(case: Case, path: str) -> tuple[list[Run], list[Run]]:
    case.w.sb.fault("500", 1, method="POST", path=path)
    return [case.w.run(*case.args())], []


def fault_b(case: Case, path: str) -> tuple[list[Run], list[Run]]:
    case.w.sb.fault("429", STORM, method="POST", path=path)
    try:
        return [case.w.run(*case.args())], []
    finally:
        case.w.sb.clear_faults()


def fault_c(case: Case, path: str) -> tuple[list[Run], list[Run]]:
    case.w.sb.fault("drop", DROP_ALL, method="POST", path=path)
    try:
        first = case.w.run(*case.args())
    finally:
        case.w.sb.clear_faults()
    return [first], [case.w.run(*case.rerun_args())]


def fault_d(case: Case, path: str) -> tuple[list[Run], list[Run]]:
    since = case.w.last_seq()
    case.w.sb.fault("latency", 1, latency_ms=LATENCY_MS, method="POST", path=path)
    proc = case.w.start(*case.args())
    try:
        case.w.wait_until_held()
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        first = case.w.finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        case.w.sb.clear_faults()
    case.w.wait_logged(since, path)  # Stripe finishes the request anyway
    return [first], [case.w.run(*case.rerun_args())]


def fault_e(case: Case, path: str) -> tuple[list[Run], list[Run]]:
    case.w.sb.fault("latency", 2, latency_ms=LATENCY_MS, method="POST", path=path)
    try:
        one, two = case.w.start(*case.args()), case.w.start(*case.args())
        return [case.w.finish(one)], [case.w.finish(two)]
    finally:
        case.w.sb.clear_faults()


FAULT_RUN = {"a": fault_a, "b": fault_b, "c": fault_c, "d": fault_d, "e": fault_e}


def cell(world: World, command: str, fault: str) -> dict[str, str]:
    started = time.monotonic()
    try:
        world.fresh()
        case = CASES[command](world)
        case.fault = fault
        case.setup()
        since = world.last_seq()
        firsts, seconds = FAULT_RUN[fault](case, FAULT_PATH[command])
        time.sleep(0.2)
        moved, twice = case.moved(since)
        runs = firsts + seconds
        sep = " / " if fault != "e" else " & "
        codes = sep.join(str(r.code) for r in runs)
        return {
            "moved": ("**MONEY MOVED TWICE** — " if twice else "") + moved,
            "codes": codes,
            "msg1": message_of(firsts[0].err) or "(nothing on stderr)",
            "msg2": (message_of(seconds[0].err) or "(nothing on stderr)") if seconds else "—",
            "twice": "yes" if twice else "",
            "secs": f"{time.monotonic() - started:.1f}",
        }
    except Exception as exc:  # one cell's failure is shown in that cell, the matrix goes on
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:150]
        traceback.print_exc(file=sys.stderr)
        return {"moved": f"script error: {detail}", "codes": "—", "msg1": "—", "msg2": "—", "twice": "",
                "secs": f"{time.monotonic() - started:.1f}"}
    finally:
        try:
            world.sb.clear_faults()
        except Exception:
            pass


# --------------------------------------------------------------------------- the table


def md(text: str) -> str:
    return text.replace("|", "\\|")


def table(results: list[tuple[str, str, dict[str, str]]]) -> str:
    lines = [
        "| command | fault | money moved (read from the sandbox) | exit codes | message (1st run) | message (re-run / 2nd terminal) |",
        "|---|---|---|---|---|---|",
    ]
    for command, fault, r in results:
        lines.append(f"| `{command}` | {FAULTS[fault]} | {md(r['moved'])} | {r['codes']} | {md(r['msg1'])} | {md(r['msg2'])} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="commands, comma-separated (default: all)")
    parser.add_argument("--faults", help="faults a..e, comma-separated (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fault_matrix.md"))
    opts = parser.parse_args()
    commands = [c.strip() for c in opts.only.split(",")] if opts.only else COMMANDS
    faults = [f.strip() for f in opts.faults.split(",")] if opts.faults else list(FAULTS)
    for c in commands:
        if c not in CASES:
            parser.error(f"unknown command {c!r}: one of {', '.join(COMMANDS)}")

    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    tmp = Path(tempfile.mkdtemp(prefix="sarapay-fault-matrix-"))
    began = time.monotonic()
    results: list[tuple[str, str, dict[str, str]]] = []
    world = World(tmp)
    try:
        for command in commands:
            for fault in faults:
                if fault not in CASES[command].faults:
                    continue
                r = cell(world, command, fault)
                results.append((command, fault, r))
                print(f"  {command:<12} {fault}  {r['secs']:>5} s  {r['codes']:<9} {r['moved']}", file=sys.stderr)
    finally:
        world.close()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - began

    doubles = [(c, f) for c, f, r in results if r["twice"]]
    errors = [(c, f) for c, f, r in results if r["moved"].startswith("script error")]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    import platform

    import stripe

    from sarapay import __version__

    report = "\n".join([
        "# Fault matrix: the money commands under injected faults",
        "",
        f"machine: {describe(f'{platform.system()} {platform.release()}', f'stripe {stripe.VERSION}')}",
        f"date: {stamp}; sarapay {__version__}; whole run {elapsed:.0f} s",
        "reproduce: .venv/bin/python scripts/fault_matrix.py",
        "",
        "Each row starts from nothing (sandbox reset, new SARAPAY_HOME, a practitioner linked over OAuth, a fresh "
        f"consultation: a {euros(HOLD_CENTS)} hold; `refund` refunds {euros(REFUND_CENTS)} of a captured "
        f"{euros(HOLD_CENTS)}; `pay-link` after the first link expired). The fault hits the command's POST "
        "(sandbox path prefix: " + ", ".join(f"{c} `{p}`" for c, p in FAULT_PATH.items()) + "). "
        f"(b) queues {STORM} 429s (sarapay retries a 429 three times); (c) drops every answer "
        f"to that POST, then re-runs without faults; (d) holds the POST {LATENCY_MS} ms, sends SIGINT while it "
        f"is held, waits for the sandbox to finish it, then re-runs; (e) starts two processes together, each POST held "
        f"{LATENCY_MS} ms. \"Applied\" = a POST the sandbox answered 200 that is not an idempotent replay (a dropped "
        "answer counts: Stripe did the work). The last row re-runs with `pay-link` on the first consultation, "
        "as the message of a lost answer on `plan --paid` advises, instead of planning again. Exit codes: first run / re-run, or terminal 1 & terminal 2; "
        + ", ".join(f"{k} {v}" for k, v in EXIT_MEANING.items()) + ".",
        "",
        table(results),
        "",
        ("**Money moved twice** in: " + ", ".join(f"`{c}` {FAULTS[f]}" for c, f in doubles)) if doubles
        else "Money moved at most once in every cell.",
        *(["Script errors in: " + ", ".join(f"`{c}` {FAULTS[f]}" for c, f in errors), ""] if errors else [""]),
    ])
    print(report)
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
