"""A damaged ledger, a read-only one, a full disk: one clear sentence, exit 4, no traceback, and nothing
sent to Stripe that the ledger could not record.

Read-only and full are real: a tiny tmpfs mounted for the test (remounted read-only, or filled up). That
needs root (mount); elsewhere those tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from sarapay import settings
from tests.cli.payments_helpers import authorised, consultation, last_seq, link_practitioner, posts

FUTURE = "01/12/2099 10:30"


def assert_config_error(result, *needles):
    assert result.exit_code == 4, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "sqlite3." not in result.stderr
    message = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in message, (needle, message)


# --- damaged --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "TC-8F3K2Q"],
        ["log"],
        ["prefs", "show"],
        ["plan", "10000000413", "--at", FUTURE, "--paid"],
        ["capture", "TC-8F3K2Q", "--yes"],
        ["cancel", "TC-8F3K2Q", "--yes"],
        ["refund", "TC-8F3K2Q", "--yes"],
        ["pay-link", "TC-8F3K2Q"],
        ["prefs", "set-max", "10000000413", "30"],
        ["unlink", "10000000413", "--yes"],
    ],
)
def test_a_damaged_ledger_is_named_with_what_to_do(run, sandbox, args):
    path = settings.ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    junk = b"this is not a ledger\n" * 400
    path.write_bytes(junk)
    since = last_seq(sandbox)
    result = run(*args)
    assert_config_error(result, "endommagé", str(path), "sync --rebuild")
    assert path.read_bytes() == junk  # left as it was, for whoever looks at it
    assert posts(sandbox, since) == []


def test_a_truncated_ledger_is_refused_at_open(run, sandbox, doctor):
    for n in range(5):
        assert run("plan", doctor["rpps"], "--at", FUTURE, "--patient-ref", f"P-{n}").exit_code == 0
    path = settings.ledger_path()
    subprocess.run(["sqlite3", str(path), "PRAGMA wal_checkpoint(TRUNCATE)"], check=False, capture_output=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    result = run("status")
    assert_config_error(result, "endommagé")


# --- read-only and full: a real tiny file system ------------------------------------------------------------


@pytest.fixture
def tiny_fs(tmp_path, monkeypatch):
    """A 512 KiB tmpfs as SARAPAY_HOME; yields a function `remount(option)`. Skipped where mount is not allowed."""
    point = tmp_path / f"tinyfs-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    monkeypatch.setenv("SARAPAY_HOME", str(point))

    def remount(option: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{option}", str(point)], check=True, capture_output=True)

    try:
        yield remount
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def fill(folder: Path) -> None:
    """Fill the file system up to its last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_ledger_on_a_read_only_file_system(run, sandbox, tiny_fs):
    doctor = link_practitioner(sandbox, 43)
    hold = authorised(run, sandbox, doctor["rpps"])
    assert run("status", hold, "--refresh").exit_code == 0
    tiny_fs("ro")
    since = last_seq(sandbox)

    listing = run("status")  # reading still works
    assert listing.exit_code == 0, listing.stderr
    assert hold in listing.stdout

    plan = run("plan", doctor["rpps"], "--at", FUTURE, "--paid")
    assert_config_error(plan, "lecture seule")
    capture = run("capture", hold, "--yes")
    assert_config_error(capture, "lecture seule")
    assert posts(sandbox, since) == []  # nothing sent that the ledger could not record
    tiny_fs("rw")
    assert consultation(hold).state == "uncaptured"


def test_a_full_disk_before_planning_sends_nothing(run, sandbox, tiny_fs):
    doctor = link_practitioner(sandbox, 44)
    before = run("status", "--json").stdout
    fill(settings.ledger_path().parent)
    since = last_seq(sandbox)
    plan = run("plan", doctor["rpps"], "--at", FUTURE, "--paid")
    assert_config_error(plan, "place", str(settings.ledger_path()))
    assert posts(sandbox, since) == []
    (settings.ledger_path().parent / "filler").unlink()
    assert run("status", "--json").stdout == before


def test_a_disk_full_after_stripe_captured_says_it_is_done_and_how_to_catch_up(run, sandbox, tiny_fs, stripe_client):
    """The disk fills up while the capture request is in flight (held 2 s by the sandbox): Stripe captured,
    the ledger cannot record it. The message says both, and how to catch up."""
    import threading
    import time

    doctor = link_practitioner(sandbox, 45)
    hold = authorised(run, sandbox, doctor["rpps"])
    assert run("status", hold, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("latency", 1, latency_ms=2000, method="POST", path="/v1/payment_intents/")

    def fill_once_capturing():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the capture request has started once it consumed the latency fault
            if not sandbox.queued_faults():
                break
            time.sleep(0.02)
        time.sleep(0.5)
        fill(settings.ledger_path().parent)

    filler = threading.Thread(target=fill_once_capturing)
    filler.start()
    try:
        result = run("capture", hold, "--yes")
    finally:
        filler.join()
        sandbox.clear_faults()
    assert_config_error(result, "Stripe a bien effectué", "25,00", "place", f"sarapay status {hold} --refresh")
    (settings.ledger_path().parent / "filler").unlink()
    assert consultation(hold).state == "uncaptured"  # behind, and the message said so
    assert run("status", hold, "--refresh").exit_code == 0
    assert (consultation(hold).state, consultation(hold).captured_cents) == ("succeeded", 2500)
    assert len([r for r in posts(sandbox, since) if r["path"].endswith("/capture")]) == 1  # sent once, not again
