"""`sarapay --lang en … --help` (or SARAPAY_LANG=en) shows the help in English (src/sarapay/cli/help_en.py),
French stays the default, and docs/cli.md stays French."""

from __future__ import annotations

import subprocess
import sys

from sarapay import i18n

from .test_help_examples import ROOT, _commands


def _help_texts() -> list[str]:
    """Every French help text: of each command and group, their options and arguments, and panel names."""
    import typer.main

    from sarapay.cli import app
    from sarapay.cli.app import polish_command

    i18n.set_lang("fr")
    commands = _commands()
    root = typer.main.get_command(app)
    polish_command(root)
    texts: list[str] = []
    for command in [root, *_groups(root), *commands.values()]:
        polish_command(command)
        for text in (command.help, command.short_help, command.epilog, getattr(command, "rich_help_panel", None)):
            if text:
                texts.append(text)
        for param in command.params:
            if param.name in ("install_completion", "show_completion"):
                continue  # said in the catalog (cli.install_completion...)
            for text in (getattr(param, "help", None), getattr(param, "rich_help_panel", None)):
                if text:
                    texts.append(text)
    return texts


def _groups(root):
    ctx = root.make_context("sarapay", [], resilient_parsing=True)
    return [command for name in root.list_commands(ctx) if hasattr(command := root.get_command(ctx, name), "commands")]


def test_every_help_text_has_an_english_twin():
    from sarapay.cli.help_en import HELP_EN

    missing = sorted({text for text in _help_texts() if text not in HELP_EN})
    assert not missing, "help texts without English in src/sarapay/cli/help_en.py:\n" + "\n".join(map(repr, missing))


def test_english_help_keeps_commands_options_and_markup():
    from sarapay.cli.help_en import HELP_EN

    for french, english in HELP_EN.items():
        for word in french.split():
            if word.startswith("--") or word.startswith("[bold]sarapay"):
                assert word.strip("().,;:«»") in english, (word, english)
        assert french.count("[bold]") == english.count("[bold]"), english


def test_capture_help_in_english(run):
    result = run("--lang", "en", "capture", "--help")
    assert result.exit_code == 0
    assert "Charges the patient after the consultation" in result.stdout
    assert "Examples" in result.stdout
    assert "Débite le patient" not in result.stdout
    assert "Show this message and exit." in result.stdout


def test_value_words_follow_the_language(run):
    english = " ".join(run("--lang", "en", "capture", "--help").stdout.split())
    assert "CONSULTATION [AMOUNT]" in english and "MONTANT" not in english
    plan = " ".join(run("--lang", "en", "plan", "--help").stdout.split())
    assert "--max AMOUNT" in plan and "--patient-ref REF" in plan and "RÉF" not in plan
    french = " ".join(run("capture", "--help").stdout.split())
    assert "CONSULTATION [MONTANT]" in french and "AMOUNT" not in french


def test_help_typed_before_the_language_is_english_too(run):
    for args in (("--help", "--lang", "en"), ("--color", "never", "--help", "--lang=en")):
        result = run(*args)
        assert result.exit_code == 0
        assert "Online payment of teleconsultations" in result.stdout and "Rapprochement" not in result.stdout, args
    assert "Rapprochement" in run("--help").stdout


def test_help_in_english_from_the_environment(run, monkeypatch):
    monkeypatch.setenv("SARAPAY_LANG", "en")
    result = run("config", "set-key", "--help")
    assert "Saves the platform's Stripe secret key" in result.stdout
    assert "Enregistre la clé secrète" not in result.stdout


def test_root_help_in_english_with_panels(run):
    result = run("--lang", "en", "--help")
    assert result.exit_code == 0
    for words in ("Online payment of teleconsultations", "Reconciliation", "Sandbox", "Payouts", "Language of messages"):
        assert words in result.stdout
    for words in ("Rapprochement", "Bac à sable", "Débite le patient"):
        assert words not in result.stdout


def test_french_help_unchanged_after_english_in_the_same_process(run):
    assert "Charges the patient" in run("--lang", "en", "capture", "--help").stdout
    french = run("capture", "--help").stdout
    assert "Débite le patient après l'acte" in french
    assert "Exemples" in french
    assert "Charges the patient" not in french
    root = run("--help").stdout
    assert "Rapprochement" in root and "Reconciliation" not in root


def test_cli_docs_stay_french():
    result = subprocess.run([sys.executable, "scripts/gen_cli_docs.py", "--check"], cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
