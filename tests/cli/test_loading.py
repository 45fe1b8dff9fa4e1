"""Command modules are imported on demand: a run imports only its command's module, help imports them all."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from sarapay.cli import app, command_modules, load_commands, module_for, registration_order


def _registered() -> dict[str, object]:
    load_commands()
    names = {}
    for info in app.registered_commands:
        names[info.name or typer.main.get_command_name(info.callback.__name__)] = info
    for info in app.registered_groups:
        names[info.name or info.typer_instance.info.name] = info
    return names


def test_every_command_is_where_module_for_looks():
    """A command missing here still works but imports every module: add it to MODULE_OF."""
    for name, info in _registered().items():
        stems = command_modules()
        assert stems[registration_order(info)[1]] == module_for(name), name


def test_help_lists_every_command_in_module_order():
    root = typer.main.get_command(app)
    ctx = root.make_context("sarapay", [], resilient_parsing=True)
    listed = root.list_commands(ctx)
    assert set(listed) == set(_registered())
    orders = [registration_order(_registered()[name]) for name in listed]
    assert orders == sorted(orders)


def test_a_run_imports_only_its_command_module(hermetic_home):
    code = (
        "import sys\n"
        "from sarapay.cli import main\n"
        "sys.argv = ['sarapay', 'fees', '25']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('sarapay.cli.') and m.endswith('_cmd')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "['sarapay.cli.fees_cmd']", done.stderr
