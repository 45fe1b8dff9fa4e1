"""Secrets and access: a canary secret key run through every command never shows up anywhere; files stay
private; OAuth `state` is single-use, expiring and bound to its practitioner; live keys are refused.

The canary is a key no one else uses; "appears" means the key, its secret part, or any 8 characters in a
row of it (the masked form sk_test_…XXXX shows 4, on purpose).
"""

from __future__ import annotations

import os
import secrets
import stat
import string
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sarapay import settings
from tests.cli.payments_helpers import authorised, last_seq, posts
from tests.reliability.conftest import audit_rows, sarapay_proc
from tests.reliability.story import run_story

ALNUM = string.ascii_letters + string.digits


def new_canary(prefix: str = "sk_test_") -> str:
    return prefix + "CANARY" + "".join(secrets.choice(ALNUM) for _ in range(26))


def pieces(key: str) -> list[str]:
    secret = key.split("_", 2)[2]
    return [key, secret] + [secret[i : i + 8] for i in range(len(secret) - 7)]


def leaked(key: str, text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return [p for p in pieces(key) if p in text]


def home_files() -> list[Path]:
    home = Path(os.environ["SARAPAY_HOME"])
    return [p for p in home.rglob("*") if p.is_file()]


def test_a_canary_key_run_through_every_command_never_appears(sandbox, cli_env, monkeypatch):
    canary = new_canary()
    # STRIPE_LOG=debug would make the SDK print whole responses: the gateway keeps it at "info".
    story = run_story(sandbox, {"STRIPE_API_KEY": canary, "STRIPE_LOG": "debug"})
    assert len(story.ran) > 40
    for args, proc in story.ran:
        assert not leaked(canary, proc.stdout + proc.stderr), args
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
    for path in home_files():  # the ledger and its -wal/-shm, the config, the locks...
        assert not leaked(canary, path.read_bytes()), path
    rows = audit_rows()
    assert rows and not leaked(canary, repr(rows))
    # what the sandbox logged as received never holds the key either (it travels in a header only)
    assert not leaked(canary, repr(sandbox.requests()))


def test_every_file_sarapay_creates_is_private_even_with_umask_000(sandbox, cli_env):
    canary = new_canary()
    key_file = Path(os.environ["SARAPAY_HOME"]) / "stripe-key"
    done = subprocess.run(
        [*__import__("tests.reliability.conftest", fromlist=["x"]).sarapay_cmd("config", "set-key", "--file", "--stdin")],
        input=canary + "\n", capture_output=True, text=True, env={**os.environ, "STRIPE_API_KEY": ""},
        preexec_fn=lambda: os.umask(0), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not leaked(canary, done.stdout + done.stderr)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    run_story(sandbox, {"STRIPE_API_KEY": "", "SARAPAY_KEY_FILE": str(key_file)})
    for path in home_files():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
    for folder in [p for p in Path(os.environ["SARAPAY_HOME"]).rglob("*") if p.is_dir()]:
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder
    for path in home_files():
        if path != key_file:
            assert not leaked(canary, path.read_bytes()), path


def test_the_ledger_and_its_wal_and_shm_are_0600_and_tightened_when_loosened(run, sandbox, doctor):
    from tests.cli.payments_helpers import ledger

    ledger_path = settings.ledger_path()
    os.chmod(ledger_path, 0o644)
    with ledger():  # a connection held open: the -wal and -shm exist while the command runs
        result = sarapay_proc("plan", doctor["rpps"], "--at", "01/12/2099 10:30")
        assert result.returncode == 0, result.stderr
        companions = [Path(str(ledger_path) + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in companions)
        for path in [ledger_path, *companions]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_malformed_key_and_a_live_key_are_refused_without_being_shown(run, sandbox, doctor, monkeypatch):
    cid = authorised(run, sandbox, doctor["rpps"])
    since = last_seq(sandbox)
    cases = [
        (new_canary("sk_test_") + "-x", [], "format"),  # malformed: refused locally
        (new_canary("sk_live_"), [], "--live"),  # live without --live: refused locally
        (new_canary("sk_live_"), ["--live"], "sk_live_…"),  # live with --live: the sandbox answers 401, masked
    ]
    for key, flags, needle in cases:
        proc = sarapay_proc(*flags, "status", cid, "--refresh", env={"STRIPE_API_KEY": key})
        assert proc.returncode == 4, (key[:12], proc.stderr)
        assert needle in proc.stderr, proc.stderr
        assert not leaked(key, proc.stdout + proc.stderr)
        assert "Traceback" not in proc.stderr
    answered = [r for r in sandbox.requests(since)]
    assert answered and {r["status"] for r in answered} == {401}  # only the live key reached it, refused
    assert posts(sandbox, since) == []


def test_the_sandbox_never_accepts_a_live_key(stripe_client, sandbox):
    import stripe

    with pytest.raises(stripe.AuthenticationError) as refused:
        stripe_client(new_canary("sk_live_")).v1.balance.retrieve()
    assert refused.value.http_status == 401


def test_an_unexpected_error_prints_one_sentence_no_traceback_no_key(run, sandbox, doctor, monkeypatch):
    """A bug (here: a ledger query raising) while the key sits in local variables of the call stack."""
    canary = new_canary()
    monkeypatch.setenv("STRIPE_API_KEY", canary)
    monkeypatch.delenv("SARAPAY_DEBUG", raising=False)
    from sarapay.ledger.store import Ledger

    def broken(self, *args, **kwargs):
        key = canary  # noqa: F841 - a secret in the frame's locals
        raise RuntimeError("boom")

    monkeypatch.setattr(Ledger, "get_consultation", broken)
    cid = "TC-8F3K2Q"
    result = run("capture", cid, "--yes")
    assert result.exit_code == 1
    assert "Erreur inattendue (RuntimeError)" in result.stderr
    assert "Traceback" not in result.stderr and not leaked(canary, result.stdout + result.stderr)
    [row] = [r for r in audit_rows() if r["command"] == "capture"]
    assert row["outcome"] == "error" and not leaked(canary, repr(row))


# --- OAuth state -------------------------------------------------------------------------------------------


def _start(run, rpps):
    result = run("link", rpps, "--email", "dre.martin@example.fr")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_oauth_state_is_single_use_bound_to_its_practitioner_and_expires(run, sandbox):
    from freezegun import freeze_time

    from sarapay.rpps import make_test_rpps

    a, b, c = make_test_rpps(71), make_test_rpps(72), make_test_rpps(73)
    since = last_seq(sandbox)

    # mismatch: a state issued for A, presented for B
    consent = sandbox.oauth_authorize(_start(run, a))
    _start(run, b)
    wrong = run("link", b, "--code", consent["code"], "--state", consent["state"])
    assert wrong.exit_code == 2 and "autre praticien" in wrong.stderr
    # single use: the right practitioner succeeds once, the second time is refused
    assert run("link", a, "--code", consent["code"], "--state", consent["state"]).exit_code == 0
    assert [r["path"] for r in posts(sandbox, since)] == ["/oauth/token"]
    again = run("link", a, "--code", consent["code"], "--state", consent["state"])
    assert again.exit_code == 2  # already linked, or state used: either way nothing is sent
    assert [r["path"] for r in posts(sandbox, since)] == ["/oauth/token"]

    # expiry: the state is good for an hour (ledger.DEFAULT_OAUTH_STATE_TTL)
    consent = sandbox.oauth_authorize(_start(run, c))
    later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)
    with freeze_time(later):
        expired = run("link", c, "--code", consent["code"], "--state", consent["state"])
    assert expired.exit_code == 2 and "expiré" in expired.stderr
    assert [r["path"] for r in posts(sandbox, since)] == ["/oauth/token"]  # Stripe never asked
    # forged: a state this machine never issued
    forged = run("link", c, "--code", consent["code"], "--state", "x" * 32)
    assert forged.exit_code == 2 and "inconnu" in forged.stderr
