"""Command-line entry point. Each command group lives in its own `*_cmd.py` module and registers on `app`.

Modules are discovered by name, so adding a command group touches no shared file, and imported only when
needed: `sarapay fees 25` imports fees_cmd and nothing else, while `--help` and TAB completion of command
names import them all (SarapayGroup in app.py asks `load_commands`). A command lives in `NAME_cmd.py`
unless MODULE_OF says otherwise; a command found in neither place still works (every module is then
imported), and a test keeps MODULE_OF complete so that no command pays for the others.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Callable

from typer.models import CommandInfo, TyperInfo

from sarapay.cli.app import app

# Commands registered by a module not named after them.
MODULE_OF = {
    "capture": "money_cmd",
    "cancel": "money_cmd",
    "refund": "money_cmd",
    "unlink": "link_cmd",
    "pay-link": "plan_cmd",
}


def command_modules() -> list[str]:
    return sorted(path.stem for path in Path(__file__).parent.glob("*_cmd.py"))


def module_for(name: str) -> str:
    """The module expected to register the top-level command `name`."""
    return MODULE_OF.get(name, name.replace("-", "_") + "_cmd")


def load_commands(name: str | None = None) -> None:
    """Imports the module registering command `name`, or every command module when `name` is None."""
    modules = command_modules()
    if name is not None and module_for(name) in modules:
        modules = [module_for(name)]
    for stem in modules:
        if f"sarapay.cli.{stem}" not in sys.modules:
            importlib.import_module(f"sarapay.cli.{stem}")


def registration_order(info: CommandInfo | TyperInfo) -> tuple[int, int]:
    """Sort key of a registered command or group giving the order of a full import (commands, then groups,
    as Typer builds a group; modules in name order), whatever was imported first."""
    instance = info.typer_instance if isinstance(info, TyperInfo) else None
    callback: Callable[..., Any] | None
    if instance is not None:  # a group added with add_typer: where its commands are
        inner = instance.registered_commands[:1]
        callback = inner[0].callback if inner else getattr(instance.registered_callback, "callback", None)
    else:
        callback = info.callback
    stem = (getattr(callback, "__module__", "") or "").rsplit(".", 1)[-1]
    stems = command_modules()
    return (0 if instance is None else 1, stems.index(stem) if stem in stems else len(stems))


def main() -> None:
    app()
