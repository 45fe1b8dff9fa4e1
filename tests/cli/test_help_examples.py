"""Every example printed by a `--help` runs, as written, against the sandbox.

The examples are read from the commands themselves (their epilog, `Exemple(s) : … · …`), so a new command
or a new example is tested without touching this file. Their placeholders are made real first: the
consultation `TC-8F3K2Q` becomes a consultation in the state that command needs, the RPPS numbers a
practitioner linked on the sandbox, `acct_…`/`ac_…` an account or an OAuth code the sandbox issued.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from sarapay.rpps import make_test_rpps

from .payments_helpers import TEST_KEY, authorised, link_practitioner, plan_paid

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ID = "TC-8F3K2Q"
EXAMPLE_ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"
# Examples that cannot run in a test, and why.
NOT_RUN = {
    ("sandbox", "serve"): "a server that runs until Ctrl-C (the tests run the same server as a fixture)",
    ("webhooks", "serve"): "a server that runs until SIGTERM (tests/cli/test_webhooks.py runs it as a subprocess)",
}
# The first `config set-key` example asks for the key with hidden input and stores it in the system keyring,
# which a test machine does not have: the second example (a key file, what a server uses) runs.
NEEDS_KEYRING = {
    "sarapay config set-key",
    # The same for the SMTP password typed at a hidden prompt (the cron example, with the environment, runs).
    "sarapay config set-smtp smtp.example.fr:587 --user rappels@example.fr --from rappels@example.fr --password",
}
# Documented exit codes other than 0 (the epilog says what they mean).
ALLOWED_EXIT = {("reconcile",): {0, 8}}
EXAMPLES_WRITTEN = "2026-11-20 08:00:00"


def _commands():
    import typer.main

    from sarapay.cli import app, load_commands

    load_commands()
    root = typer.main.get_command(app)
    ctx = root.make_context("sarapay", [], resilient_parsing=True)
    found = {}

    def walk(group, parent, path):
        for name in group.list_commands(parent):
            command = group.get_command(parent, name)
            if hasattr(command, "list_commands"):
                walk(command, command.make_context(name, [], parent=parent, resilient_parsing=True), (*path, name))
            else:
                found[(*path, name)] = command

    walk(root, ctx, ())
    return found


def _examples(epilog: str) -> list[str]:
    text = re.sub(r"\[/?[a-z ]*\]", "", epilog or "")
    text = re.sub(r"^.*?Exemples? ?:\s*", "", text, flags=re.S)
    return [piece.strip() for piece in text.split(" · ") if "sarapay" in piece]


def _words(example: str) -> tuple[list[str], str | None]:
    """The sarapay command line of an example (from `sarapay` to a comment, a redirection or a pipe), and the
    file its stdin is redirected from, if any."""
    text = example[example.index("sarapay"):]
    text = re.split(r" \((?=\w)", text)[0]  # a comment: « (capture 20 € et libère le reste) »
    if example[: example.index("sarapay")].endswith("$("):
        text = text.split(")")[0]  # the command inside `"$(sarapay config path ledger)"`
    words: list[str] = []
    stdin = None
    rest = shlex.split(text)[1:]
    for i, token in enumerate(rest):
        if token == "<":
            stdin = rest[i + 1]
            continue
        if i and rest[i - 1] == "<":
            continue
        if token in (">", ">>", "2>", "||", "|", ";", "&&"):
            break
        words.append(token)
    return words, stdin


ALL_EXAMPLES = [
    (path, example)
    for path, command in sorted(_commands().items())
    for example in _examples(command.epilog)
]
# The examples that cannot run here are left out of the runs (not skipped: a skip would read as a missing
# component in CI), and a test says which they are.
CASES = [
    (path, example)
    for path, example in ALL_EXAMPLES
    if path not in NOT_RUN and example.split(" (")[0].strip() not in NEEDS_KEYRING
]


def test_only_the_examples_that_cannot_run_here_are_left_out():
    left_out = {(path, example.split(" (")[0].strip()) for path, example in ALL_EXAMPLES} - {
        (path, example.split(" (")[0].strip()) for path, example in CASES
    }
    assert {path for path, _ in left_out} == {
        ("sandbox", "serve"), ("webhooks", "serve"), ("config", "set-key"), ("config", "set-smtp"),
    }
    assert len(left_out) == 4


def test_every_command_with_an_example_is_covered():
    assert {path for path, _ in CASES} >= {("plan",), ("status",), ("capture",), ("link",), ("log",), ("reconcile",)}


def _consultation_for(path, run, sandbox, rpps) -> str:
    """A consultation in the state the example's command needs."""
    command = path[-1]
    if command in ("pay", "pay-link"):  # an open payment page (pay) or one to replace (pay-link)
        return plan_paid(run, rpps)["id"]
    cid = authorised(run, sandbox, rpps)
    if command == "refund":
        assert run("capture", cid, "--yes").exit_code == 0
    return cid


def _paid_payout(run, sandbox, rpps) -> str:
    import stripe

    from sarapay.ledger import open_ledger
    from sarapay import settings

    cid = authorised(run, sandbox, rpps)
    assert run("capture", cid, "--yes").exit_code == 0
    sandbox.advance(10 * 86400)
    with open_ledger(settings.ledger_path()) as book:
        account = book.get_practitioner(rpps).account_id
    client = stripe.StripeClient(TEST_KEY, base_addresses={"api": sandbox.url}, http_client=stripe.UrllibClient())
    payouts = client.v1.payouts.list(options={"stripe_account": account}).data
    assert payouts, "no payout after ten days"
    return payouts[0].id


@pytest.mark.parametrize("path, example", CASES, ids=[f"{' '.join(p)}: {e[:60]}" for p, e in CASES])
def test_help_example_runs(path, example, run, sandbox, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    words, stdin_file = _words(example)
    if any(w.startswith("postgresql://") for w in words):  # the team's database: a real, empty one
        words = [request.getfixturevalue("pg_url") if w.startswith("postgresql://") else w for w in words]
    line = " ".join(words)

    # Practitioners: every example RPPS linked on the sandbox (OAuth), except for the commands that link.
    numbers = sorted(set(re.findall(r"\b1000\d{7}\b", line)))
    ids = {make_test_rpps(int(number[4:10])): None for number in numbers}
    assert set(ids) == set(numbers), f"an example RPPS has a wrong Luhn key: {numbers}"
    linking = path == ("link",) and "--check" not in words
    for number in numbers:
        if path == ("payouts",):  # a schedule is changed only on an account the platform created
            created = run("link", number, "--new", "--email", "dr@example.fr", "--json")
            assert created.exit_code == 0, created.stderr
            sandbox.complete_onboarding(json.loads(created.stdout)["account_id"])
        elif not linking:
            link_practitioner(sandbox, int(number[4:10]))
    if "ac_…" in words:  # the return of the OAuth page: a real code and state from a first `link --email`
        started = run("link", numbers[0], "--email", "dr@example.fr", "--json")
        assert started.exit_code == 0, started.stderr
        url = json.loads(started.stdout)["url"]
        consent = sandbox.oauth_authorize(url)
        state = re.search(r"[?&]state=([^&]+)", url).group(1)
        words = [consent["code"] if w == "ac_…" else state if w == "…" else w for w in words]
    if EXAMPLE_ACCOUNT in words:  # an account already connected to the platform, not yet in the ledger
        from sarapay.stripe_gateway import Gateway

        from .payments_helpers import TEST_CLIENT_ID

        gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
        account = gateway.oauth_token(sandbox.oauth_authorize(gateway.oauth_authorize_url("s"))["code"])["stripe_user_id"]
        words = [account if w == EXAMPLE_ACCOUNT else w for w in words]
    authorize_words = [w for w in words if "/oauth/authorize?" in w]
    if authorize_words:  # `sandbox consent URL`: the address a first `link --email` printed
        started = run("link", make_test_rpps(1), "--email", "dr@example.fr")
        assert started.exit_code == 0, started.stderr
        words = [started.stdout.strip() if w in authorize_words else w for w in words]
    payout_words = [w for w in words if w.startswith("po_")]
    if payout_words:  # a payout that was paid: a capture, then Stripe's clock moved past the payout
        words = [_paid_payout(run, sandbox, numbers[0]) if w in payout_words else w for w in words]
    if EXAMPLE_ID in words:
        rpps = numbers[0] if numbers else link_practitioner(sandbox, 999)["rpps"]
        real = _consultation_for(path, run, sandbox, rpps)
        words = [real if w == EXAMPLE_ID else w for w in words]
    elif path in (("log",), ("status",), ("sync",), ("reconcile",)):
        authorised(run, sandbox, link_practitioner(sandbox, 999)["rpps"])  # something to show

    if path == ("remind",) and "--dry-run" not in words:  # a mail server to send to (a real one, on loopback)
        from .smtp_helpers import SmtpServer

        server = SmtpServer().__enter__()
        request.addfinalizer(lambda: server.__exit__(None, None, None))
        configured = run("config", "set-smtp", server.address, "--no-starttls", "--from", "rappels@example.fr")
        assert configured.exit_code == 0, configured.stderr

    # The reader of the help is at a terminal and answers « o » when a command asks to confirm.
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    # The examples name days of December 2026 (plan refuses a past date): the client's clock is put back
    # before them, so the examples keep running after that month (Stripe's clock, the sandbox's, is not moved).
    from freezegun import freeze_time

    with freeze_time(EXAMPLES_WRITTEN, tick=True):
        result = run(*words, input=TEST_KEY + "\n" if stdin_file else "o\n")
    allowed = ALLOWED_EXIT.get(path, {0})
    assert result.exit_code in allowed, f"{example}\n→ sarapay {' '.join(words)}: exit {result.exit_code}\n{result.stderr}"
