"""Writes docs/cli.md from the commands' own help (French, as users see it), or checks it.

    .venv/bin/python scripts/gen_cli_docs.py          # regenerate
    .venv/bin/python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale

Like sqlite-utils' CLI reference (generated from each command's --help with cog): one section per
command, its `--help` output at a fixed width without colour. tests/test_docs.py fails when the file is
stale, or when a command has no help text or no example.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"
WIDTH = 100

HEADER = """# Référence des commandes sarapay

Généré par `scripts/gen_cli_docs.py` à partir de l'aide des commandes (`sarapay COMMANDE --help`) :
ne pas modifier à la main. Les messages et l'aide sont en français ; `--lang en` (ou `SARAPAY_LANG=en`)
passe les messages et l'aide (`sarapay --lang en COMMANDE --help`) en anglais.

"""


def command_paths() -> list[tuple[str, ...]]:
    """Every command, groups first then their sub-commands, in the order of `sarapay --help`."""
    import typer.main

    from sarapay.cli import app, load_commands

    load_commands()
    root = typer.main.get_command(app)
    ctx = root.make_context("sarapay", [], resilient_parsing=True)
    paths: list[tuple[str, ...]] = [()]
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        paths.append((name,))
        if hasattr(command, "list_commands"):
            sub_ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
            paths += [(name, sub) for sub in command.list_commands(sub_ctx)]
    return paths


def commands() -> dict[tuple[str, ...], object]:
    """The Click command behind each path (for the checks in tests/test_docs.py)."""
    import typer.main

    from sarapay.cli import app, load_commands

    load_commands()
    root = typer.main.get_command(app)
    ctx = root.make_context("sarapay", [], resilient_parsing=True)
    found = {}
    for path in command_paths()[1:]:
        command, parent = root, ctx
        for name in path:
            command = command.get_command(parent, name)
            parent = command.make_context(name, [], parent=parent, resilient_parsing=True) if hasattr(command, "list_commands") else parent
        found[path] = command
    return found


def help_text(path: tuple[str, ...]) -> str:
    import typer.rich_utils
    from typer.testing import CliRunner

    from sarapay.cli import app

    # Fixed width, no terminal: the same text on every machine (CI sets GITHUB_ACTIONS, which forces a terminal).
    saved = typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL
    typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL = WIDTH, False
    try:
        env = {"NO_COLOR": "1", "SARAPAY_LANG": "fr", "COLUMNS": str(WIDTH), "TERMINAL_WIDTH": str(WIDTH)}
        result = CliRunner().invoke(app, [*path, "--help"], prog_name="sarapay", env=env, catch_exceptions=False)
    finally:
        typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL = saved
    if result.exit_code != 0:
        raise RuntimeError(f"sarapay {' '.join(path)} --help exited {result.exit_code}: {result.stderr}")
    return "\n".join(line.rstrip() for line in result.stdout.strip("\n").splitlines())


def generate() -> str:
    parts = [HEADER]
    for path in command_paths():
        title = " ".join(("sarapay", *path))
        parts.append(f"## `{title}`\n\n```text\n{help_text(path)}\n```\n\n")
    return "".join(parts).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SARAPAY_HOME", str(ROOT / ".cache" / "docs-home"))  # help never opens the ledger
    sys.exit(main(sys.argv[1:]))
