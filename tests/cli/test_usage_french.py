"""Click's own usage errors reach French users in French; English users keep Click's wording."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sarapay.cli import app
from sarapay.cli.usage_fr import to_french

CASES = [
    (["capture"], "Argument manquant : CONSULTATION."),
    (["plan", "10000000009"], "Option obligatoire manquante : --at."),
    (["capture", "TC-AAAAAA", "20", "extra"], "Argument en trop : extra."),
    (["captur"], "Commande inconnue : « captur ». Vouliez-vous dire capture ?"),
    (["status", "--limt", "3"], "Option inconnue : --limt."),
    (["status", "--practitioner"], "L'option --practitioner attend une valeur."),
    (["payouts", "10000000009", "-n", "abc"], "un nombre entier est attendu"),
    (["payouts", "10000000009", "-n", "500"], "au plus 100"),
    (["log", "-n", "0"], "au moins 1"),
]


def _flat(text: str) -> str:
    """The error panel's text on one line (the panel's borders and line breaks removed)."""
    return " ".join(line.strip(" │╭╮╰╯─") for line in text.splitlines() if line.strip(" │╭╮╰╯─"))


@pytest.mark.parametrize("args, french", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_usage_errors_are_said_in_french(args, french):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert french in _flat(result.stderr)


def test_english_users_keep_clicks_wording():
    result = CliRunner().invoke(app, ["--lang", "en", "log", "-n", "0"])
    assert result.exit_code == 2
    assert "Input should be greater than or equal to 1" in _flat(result.stderr)


def test_an_unknown_shape_is_left_as_it_is_rather_than_mistranslated():
    assert to_french("Something Click may say one day.") == "Something Click may say one day."


def test_an_invalid_language_ends_with_one_full_stop():
    result = CliRunner().invoke(app, ["--lang", "de", "status"])
    assert result.exit_code == 2
    assert "utilisez fr ou en." in _flat(result.stderr) and "en.." not in _flat(result.stderr)
