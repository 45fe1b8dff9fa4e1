"""The status table in a real terminal: readable at 80 columns (tmux, kept as tests/fixtures/status_80cols.txt),
and long tables through the pager only on a terminal.

Runs under tmux when it is installed (.ci/run installs it); this test installs nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "status_80cols.txt"
PROGRAM = Path(sys.executable).parent / "sarapay"
RPPS = make_test_rpps(80)
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


def _ledger(rows: int = 0) -> None:
    with open_ledger(settings.ledger_path()) as ledger:
        ledger.upsert_practitioner(RPPS, name="Dre Quatre-Vingts")
        ledger.insert_consultation(
            "TC-8F3K2Q", rpps=RPPS, scheduled_at="2026-12-01T09:30:00Z", state="uncaptured", paid_online=True,
            max_cents=2500, authorised_cents=2500, capture_before=1796722200,  # 08/12/2026 10:30 Paris
        )
        ledger.insert_consultation(
            "TC-QQQQQQ", rpps=RPPS, scheduled_at="2026-11-03T09:30:00Z", state="succeeded", paid_online=True,
            max_cents=2500, authorised_cents=2500, captured_cents=2000, fee_cents=55, net_cents=1945,
        )
        ledger.insert_consultation(
            "TC-RRRRRR", rpps=RPPS, scheduled_at="2026-11-02T14:00:00Z", state="canceled", paid_online=True, max_cents=5000,
        )
        ledger.insert_consultation("TC-SSSSSS", rpps=RPPS, scheduled_at="2026-10-30T08:00:00Z", state="no_online_payment")
        if rows:
            ledger.insert_consultations_many(
                {"id": f"TC-X{i:05d}".replace("0", "A").replace("1", "B"), "rpps": RPPS, "state": "succeeded",
                 "scheduled_at": f"2026-09-{1 + i % 28:02d}T08:{i % 60:02d}:00Z", "captured_cents": 2500}
                for i in range(rows)
            )


def _in_tmux(command: str, *, env: dict[str, str], until: str, seconds: float = 20) -> str:
    """Runs `command` in a new 80×40 tmux session (its own server) and returns the screen once `until` shows."""
    socket = f"sarapay-test-{uuid.uuid4().hex[:8]}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    shell = f"env {exports} {command}; echo __DONE__; sleep 60"
    subprocess.run(["tmux", "-u", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "40", shell], check=True)
    try:
        deadline = time.monotonic() + seconds
        screen = ""
        while time.monotonic() < deadline:
            screen = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p"], capture_output=True, text=True).stdout
            if until in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"tmux never showed {until!r}:\n{screen}")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def _env(**extra: str) -> dict[str, str]:
    base = {
        "SARAPAY_HOME": os.environ["SARAPAY_HOME"], "NO_COLOR": "1", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
        "SARAPAY_LANG": "fr", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "TZ": "UTC",
        "PATH": os.environ.get("PATH", ""),
    }
    return {**base, **extra}


def _screen_lines(screen: str) -> list[str]:
    lines = [line.rstrip() for line in screen.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@needs_tmux
def test_status_table_is_readable_at_80_columns(hermetic_home):
    _ledger()
    screen = _in_tmux(f"{PROGRAM} status", env=_env(PAGER="cat"), until="__DONE__")
    lines = _screen_lines(screen.split("__DONE__")[0])
    assert all(len(line) <= 80 for line in lines)
    table = "\n".join(lines)
    assert "…" not in table  # no cell cut short
    for text in ("TC-8F3K2Q", "01/12/2026 10:30", "Non capturé", "08/12 10:30", "20,00\u00a0€", "Sans paiement en ligne"):
        assert text in table
    if os.environ.get("SARAPAY_UPDATE_FIXTURES"):
        FIXTURE.write_text(table + "\n")
    assert table + "\n" == FIXTURE.read_text(), "to accept a new layout: SARAPAY_UPDATE_FIXTURES=1 pytest tests/cli/test_terminal.py"


@needs_tmux
def test_long_tables_go_through_the_pager_on_a_terminal(hermetic_home, tmp_path):
    _ledger(rows=60)
    marker = tmp_path / "paged"
    pager = tmp_path / "pager.sh"
    pager.write_text(f"#!/bin/sh\ntee {marker}\n")
    pager.chmod(0o755)
    _in_tmux(f"{PROGRAM} status", env=_env(PAGER=str(pager)), until="__DONE__")
    paged = marker.read_text()
    # What the pager shows is complete: the count first (not after quitting), the table, the totals.
    assert paged.index("50 consultations affichées sur 64") < paged.index("TC-8F3K2Q") < paged.index("Totaux par état")


@needs_tmux
def test_an_empty_pager_means_none(hermetic_home, tmp_path):
    _ledger(rows=60)
    marker = tmp_path / "paged"
    pager = tmp_path / "pager.sh"
    pager.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    pager.chmod(0o755)
    _in_tmux(f"{PROGRAM} status", env=_env(PAGER=str(pager), SARAPAY_PAGER=""), until="__DONE__")
    assert not marker.exists()


def test_no_pager_when_piped(hermetic_home, tmp_path):
    _ledger(rows=60)
    marker = tmp_path / "paged"
    pager = tmp_path / "pager.sh"
    pager.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    pager.chmod(0o755)
    done = subprocess.run([str(PROGRAM), "status"], capture_output=True, text=True, env={**os.environ, "PAGER": str(pager)},
                          timeout=60)
    assert done.returncode == 0 and "TC-8F3K2Q" in done.stdout
    assert not marker.exists()


@needs_tmux
def test_log_is_readable_at_80_columns_in_words(hermetic_home):
    with open_ledger(settings.ledger_path()) as ledger:
        ledger.append_audit("capture", outcome="ok", target="TC-8F3K2Q", detail="capture 2000 sarapay:capture:TC-8F3K2Q:2000:ab12",
                            stripe_request_id="req_abcdefghijkl01")
        ledger.append_audit("pay-link", outcome="refused", target="TC-8F3K2Q", detail="paylink.already_authorised")
        ledger.append_audit("prefs.set-max", outcome="ok", target=RPPS, detail="2500->3000")
    screen = _in_tmux(f"{PROGRAM} log", env=_env(PAGER="cat"), until="__DONE__")
    lines = _screen_lines(screen.split("__DONE__")[0])
    text = "\n".join(lines)
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in text and "sarapay:capture" not in text and "paylink.already" not in text
    for words in ("TC-8F3K2Q", RPPS, "Capture de 20,00\u00a0€", "Refusé", "Le patient a déjà", "Maximum 25,00\u00a0€ →"):
        assert words in text, words
