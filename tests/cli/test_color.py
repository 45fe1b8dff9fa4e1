"""Colour as gh does it: --color wins, then NO_COLOR and CLICOLOR=0 (off), CLICOLOR_FORCE (on), else a TTY."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from sarapay.render import console
from sarapay.cli import app

ESC = "\x1b["


def fees(monkeypatch, env: dict[str, str], *options: str) -> str:
    for name in ("NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, [*options, "fees", "25"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "env, options, colored",
    [
        ({}, (), False),  # piped: no colour
        ({"CLICOLOR_FORCE": "1"}, (), True),
        ({"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, (), False),
        ({"CLICOLOR_FORCE": "1", "CLICOLOR": "0"}, (), False),
        ({}, ("--color", "always"), True),
        ({"NO_COLOR": "1"}, ("--color", "always"), True),  # the option wins over the environment
        ({"CLICOLOR_FORCE": "1"}, ("--color", "never"), False),
        ({"CLICOLOR_FORCE": "1"}, ("--color", "auto"), True),
    ],
)
def test_color_rules(monkeypatch, env, options, colored):
    out = fees(monkeypatch, env, *options)
    assert (ESC in out) is colored
    assert "25,00" in out


def test_color_choice_does_not_leak_into_the_next_run(monkeypatch):
    assert ESC in fees(monkeypatch, {}, "--color", "always")
    assert ESC not in fees(monkeypatch, {})


def test_unknown_color_is_refused_in_french(monkeypatch):
    result = CliRunner().invoke(app, ["--color", "bof", "fees", "25"])
    assert result.exit_code == 2
    assert "Valeur inconnue « bof »" in result.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_colours_a_terminal_unless_no_color(monkeypatch):
    for name in ("NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    console.set_color(None)
    assert console.color_enabled(_Tty()) and not console.color_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not console.color_enabled(_Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("CLICOLOR", "0")
    assert not console.color_enabled(_Tty())


def test_plain_messages_need_no_rich(monkeypatch, capsys):
    console.set_color("never")
    console.message("Aucune consultation.")
    console.warn("Attention.")
    assert capsys.readouterr().err == "Aucune consultation.\nAttention.\n"
    console.set_color(None)
