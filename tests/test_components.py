"""A test whose component cannot start skips loudly, and fails when components are required (.ci/run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NEEDS_A_TELESCOPE = '''
from tests.components import missing_component


def test_needs_a_telescope():
    missing_component("telescope", "not installed (apt-get install telescope)")
'''


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_telescope.py").write_text(NEEDS_A_TELESCOPE, encoding="utf-8")
    # The suite's own end-of-run summary (tests/conftest.py), without its fixtures.
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    environ = {k: v for k, v in os.environ.items() if k != "SARAPAY_REQUIRE_COMPONENTS"}
    environ.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(tmp_path / "test_telescope.py")],
        capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=120,
    )


def test_a_missing_component_skips_and_says_so_in_the_summary(tmp_path):
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED [1]" in done.stdout and "MISSING COMPONENT telescope: not installed" in done.stdout
    assert "1 test(s) skipped, missing: telescope" in done.stdout


def test_when_components_are_required_the_same_test_fails(tmp_path):
    done = _pytest(tmp_path, SARAPAY_REQUIRE_COMPONENTS="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "MISSING COMPONENT telescope" in done.stdout and "SARAPAY_REQUIRE_COMPONENTS=1" in done.stdout
