"""`sarapay --version`: the installed version, on stdout, exit 0, before any command runs."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from typer.testing import CliRunner

import sarapay
from sarapay.cli import app


def test_version_in_process():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"sarapay {sarapay.__version__}\n"
    assert sarapay.__version__ == version("sarapay")  # the package and its metadata agree


def test_version_wins_over_a_command_and_imports_nothing_heavy(hermetic_home):
    code = (
        "import sys\n"
        "from sarapay.cli import app\n"
        "try:\n"
        "    app(['--version', 'capture', 'TC-8F3K2Q'], prog_name='sarapay')\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print(sorted(m for m in ('stripe', 'sqlite_utils', 'keyring') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == [f"sarapay {sarapay.__version__}", "exit 0", "[]"], done.stderr
