"""Start-up is part of the product: `sarapay --help` (and TAB completion) must not import stripe."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import runpy, sys
sys.argv = ["sarapay"] + sys.argv[1:]
try:
    runpy.run_module("sarapay", run_name="__main__")
except SystemExit:
    pass
heavy = sorted(m for m in ("stripe", "keyring", "sqlite_utils", "babel", "fpdf", "PIL") if m in sys.modules)
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def heavy_modules(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    line = [x for x in done.stderr.splitlines() if x.startswith("HEAVY=")][-1]
    return [m for m in line[len("HEAVY="):].split(",") if m]


def test_help_does_not_import_stripe():
    heavy = heavy_modules("--help")
    assert "stripe" not in heavy
    assert "keyring" not in heavy
    assert "fpdf" not in heavy


def test_statement_and_payouts_help_import_neither_stripe_nor_the_pdf_library():
    for command in ("statement", "payouts"):
        heavy = heavy_modules(command, "--help")
        assert not {"stripe", "fpdf", "PIL"} & set(heavy), (command, heavy)


def test_config_help_does_not_import_stripe():
    assert "stripe" not in heavy_modules("config", "--help")


def test_config_path_does_not_import_stripe_nor_keyring():
    heavy = heavy_modules("config", "path")
    assert "stripe" not in heavy and "keyring" not in heavy


def test_importing_the_gateway_does_not_import_stripe():
    code = "import sys, sarapay.stripe_gateway; print('stripe' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_status_on_an_existing_ledger_imports_neither_stripe_nor_sqlite_utils():
    heavy_modules("status")  # the first run creates and migrates the ledger (that needs sqlite_utils)
    heavy = heavy_modules("status")
    assert not {"stripe", "keyring", "sqlite_utils"} & set(heavy)


def test_fees_imports_nothing_heavy():
    assert heavy_modules("fees", "25") == []
