"""The README's "Utilisation réelle", run as written, in order, on a fresh home, against the sandbox.

What runs: the sandbox setup block (```bash under « Essayer sur le bac à sable »), then every `sarapay …` of
the command table (« Les commandes, dans l'ordre d'une histoire »), row after row, except the rows the README
marks « exemple, non joué ». Only what the README says to replace is replaced: `URL` by the address the
previous `link --email` printed, the `link … --code ac_… --state …` command by the one `sandbox consent`
printed, `TC-8F3K2Q` by the id the last `plan` printed, `po_…` by a payout `payouts` printed, `acct_…` by the
account `link --new` printed. The sandbox address `http://127.0.0.1:12111` is the test's sandbox (the
`sandbox serve … &` line is that server, started by the fixture).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SETUP_TITLE = "### Essayer sur le bac à sable"
TABLE_TITLE = "### Les commandes, dans l'ordre d'une histoire"
NOT_RUN_MARK = "non joué"
README_SANDBOX = "http://127.0.0.1:12111"
EXAMPLE_ID = "TC-8F3K2Q"
# Documented exit codes other than 0.
ALLOWED_EXIT = {"reconcile": {0, 8}}
# The client's clock when the README's dates were written (plan refuses a past date), as in test_help_examples.
README_WRITTEN = "2026-11-20 08:00:00"


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n### ", start + len(title))
    return text[start: end if end != -1 else None]


def setup_lines() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", _section(README.read_text(), SETUP_TITLE), re.S).group(1)
    return [re.split(r"\s+#\s", line)[0].strip() for line in block.splitlines() if line.strip()]


def table_commands() -> list[str]:
    rows = [line for line in _section(README.read_text(), TABLE_TITLE).splitlines() if line.startswith("| ")]
    commands = []
    for row in rows[1:]:  # the first row is the header
        if NOT_RUN_MARK in row:
            continue
        cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        commands += [span for span in re.findall(r"`([^`]+)`", cell) if span.startswith("sarapay ")]
    return commands


def _words(command: str) -> list[str]:
    words = []
    for token in shlex.split(command)[1:]:
        if token in (">", ">>", "|", "&"):
            break
        words.append(token)
    return words


def test_the_readme_names_what_it_runs():
    assert setup_lines()[0].startswith("sarapay sandbox serve --port 12111 &")
    commands = table_commands()
    assert len(commands) >= 30
    assert commands[-1] == "sarapay unlink 10000000017"  # unlink comes last
    assert not [c for c in commands if "set-smtp" in c]  # the one row that needs a real server and a prompt


def test_the_readme_runs_in_order_on_a_fresh_home(sandbox, hermetic_home, tmp_path, monkeypatch):
    from freezegun import freeze_time
    from typer.testing import CliRunner

    from sarapay.cli import app

    assert not hermetic_home.exists()  # a fresh home: nothing configured, no key in the environment
    monkeypatch.chdir(tmp_path)
    # The reader is at a terminal and answers « o » when a command asks to confirm.
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    runner = CliRunner()

    def sarapay(words: list[str], allowed=frozenset({0})):
        words = [sandbox.url if w == README_SANDBOX else w for w in words]
        with freeze_time(README_WRITTEN, tick=True):
            result = runner.invoke(app, words, input="o\n", catch_exceptions=False)
        assert result.exit_code in allowed, f"sarapay {' '.join(words)}: exit {result.exit_code}\n{result.stderr}"
        return result

    lines = setup_lines()
    assert lines[0].endswith("&")  # the server the fixture runs
    for line in lines[1:]:
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            monkeypatch.setenv(name, value)
        else:
            sarapay(_words(line))

    seen = {"URL": None, "consent": None, "TC": None, "po": None, "acct": None}
    for command in table_commands():
        words = _words(command)
        if "--code" in words:  # the command `sandbox consent` printed, pasted as it is
            assert seen["consent"], command
            words = _words(seen["consent"])
        words = [
            {"URL": seen["URL"], EXAMPLE_ID: seen["TC"], "po_…": seen["po"], "acct_…": seen["acct"]}.get(w) or w
            for w in words
        ]
        assert "…" not in " ".join(words), f"a placeholder the README does not say how to replace: {command}"
        result = sarapay(words, ALLOWED_EXIT.get(words[0], {0}))
        out = result.stdout
        if words[0] == "link" and "--email" in words and "--new" not in words:
            seen["URL"] = out.strip()
        elif words[:2] == ["sandbox", "consent"]:
            seen["consent"] = out.strip()
        elif words[0] == "plan":
            seen["TC"] = out.split()[0]
        elif words[0] == "payouts" and (found := re.search(r"po_\w+", out)):
            seen["po"] = found.group(0)
        elif words[0] == "link" and "--new" in words:
            seen["acct"] = re.search(r"acct_\w+", out + result.stderr).group(0)
    assert all(seen.values()), seen
