"""Command-line entry point. Each command group lives in its own `*_cmd.py` module and registers on `app`.

Modules are discovered by name so adding a command group touches no shared file. They import services
lazily inside their commands.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sarapay.cli.app import app

for _module in sorted(Path(__file__).parent.glob("*_cmd.py")):
    importlib.import_module(f"sarapay.cli.{_module.stem}")


def main() -> None:
    app()
