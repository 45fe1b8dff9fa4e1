"""docs/cli.md is generated from the commands' help: it must be current, and every command must have help
text and an example (modelled on sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
COMMANDS = GENERATOR.commands()


def test_docs_cli_md_is_current():
    assert (ROOT / "docs" / "cli.md").read_text() == GENERATOR.generate(), (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py"
    )


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p))
def test_every_command_has_help(path):
    command = COMMANDS[path]
    assert (command.help or command.short_help or "").strip(), f"sarapay {' '.join(path)} has no help text"


@pytest.mark.parametrize(
    "path", sorted(p for p, c in COMMANDS.items() if not hasattr(c, "list_commands")), ids=lambda p: " ".join(p)
)
def test_every_command_has_an_example(path):
    command = COMMANDS[path]
    text = f"{command.help or ''}\n{command.epilog or ''}"
    assert re.search(r"Exemples? ?:", text), f"sarapay {' '.join(path)}: add an epilog « Exemple : sarapay … »"
    assert "sarapay " + " ".join(path) in re.sub(r"\[/?[a-z ]*\]", "", text), "the example runs the command itself"


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p))
def test_every_command_is_documented(path):
    assert f"## `sarapay {' '.join(path)}`" in (ROOT / "docs" / "cli.md").read_text()
