"""Shell completion: the checked-in scripts match regeneration, and the bash script, sourced in a real bash,
completes command names and consultation ids from the ledger without importing stripe."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sarapay import settings
from sarapay.cli.completion import consultation_ids, rpps_numbers
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

ROOT = Path(__file__).resolve().parents[2]
RPPS = make_test_rpps(77)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_completions", ROOT / "scripts" / "gen_completions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def book(hermetic_home):
    with open_ledger(settings.ledger_path()) as ledger:
        ledger.upsert_practitioner(RPPS, name="Dre Complète")
        ledger.insert_consultation("TC-8F3K2Q", rpps=RPPS, scheduled_at="2026-12-01T09:30:00Z", state="uncaptured")
        ledger.insert_consultation("TC-8FZZZZ", rpps=RPPS, scheduled_at="2026-12-02T09:30:00Z", state="succeeded")
        ledger.insert_consultation("TC-QQQQQQ", rpps=RPPS, scheduled_at="2026-12-03T09:30:00Z", state="succeeded")
    return hermetic_home


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_checked_in_scripts_match_regeneration(shell):
    generator = _generator()
    path = ROOT / "completions" / generator.TARGETS[shell]
    assert path.read_text() == generator.generate(shell), "run: .venv/bin/python scripts/gen_completions.py"


def _bash_complete(*words: str) -> list[str]:
    program = Path(sys.executable).parent / "sarapay"
    assert program.exists(), "the sarapay console script is installed next to the interpreter (pip install -e .)"
    script = (
        f"source {ROOT / 'completions' / 'sarapay.bash'}\n"
        f"COMP_WORDS=({' '.join(words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_sarapay_completion sarapay\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{program.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@needs_bash
def test_bash_completes_a_command_name(book):
    assert _bash_complete("sarapay", "ca") == ["capture", "cancel"]
    assert _bash_complete("sarapay", "capt") == ["capture"]


@needs_bash
def test_bash_completes_a_consultation_id_from_the_ledger(book):
    assert _bash_complete("sarapay", "capture", "TC-8F3") == ["TC-8F3K2Q"]
    assert sorted(_bash_complete("sarapay", "status", "TC-8F")) == ["TC-8F3K2Q", "TC-8FZZZZ"]
    assert _bash_complete("sarapay", "capture", "TC-X") == []


@needs_bash
def test_bash_completes_an_rpps_from_the_practitioners(book):
    assert _bash_complete("sarapay", "status", "--practitioner", RPPS[:6]) == [RPPS]


def test_typed_forms_keep_what_was_typed(book):
    assert [c for c, _ in consultation_ids("tc-8f3")] == ["tc-8f3K2Q"]
    assert [c for c, _ in consultation_ids("8f3")] == ["8f3K2Q"]
    assert [c for c, _ in consultation_ids("TC8F3")] == ["TC8F3K2Q"]
    assert [c for c, _ in consultation_ids("")][0] == "TC-QQQQQQ"  # most recent first
    assert consultation_ids("TC-0") == []  # 0 is not in the alphabet: no query
    [(value, help_text)] = consultation_ids("TC-8F3")
    assert help_text == "Non capturé · 01/12/2026 10:30"
    assert rpps_numbers("") == [(RPPS, "Dre Complète")] and rpps_numbers("abc") == []


def test_no_ledger_completes_nothing(hermetic_home):
    assert consultation_ids("TC-") == [] and rpps_numbers("1") == []
    assert not settings.ledger_path().exists()  # completion never creates the ledger


def test_completing_an_id_imports_neither_stripe_nor_sqlite_utils(book):
    code = (
        "import sys\n"
        "from sarapay.cli import app\n"
        "try:\n"
        "    app(prog_name='sarapay')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('stripe', 'sqlite_utils', 'keyring') if m in sys.modules))\n"
    )
    env = {**os.environ, "_SARAPAY_COMPLETE": "complete_bash", "COMP_WORDS": "sarapay capture TC-8F3", "COMP_CWORD": "2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.splitlines() == ["TC-8F3K2Q", "[]"], done.stderr
