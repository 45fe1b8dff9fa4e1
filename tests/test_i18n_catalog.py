"""Every message sarapay can show exists in French and in English, and Typer's own words that users see in
the French help are French too (at least the --help option)."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import sarapay
from sarapay import i18n

# Same text in both languages on purpose: names, codes, column titles that are the same word.
SAME_ON_PURPOSE = {
    "typer.ARGUMENTS_PANEL_TITLE", "log.detail.tables", "sync.n.consultations", "typer.OPTIONS_PANEL_TITLE", "view.col.consultation", "view.col.when",
    "view.col.rpps", "view.col.max", "view.col.net", "view.total", "view.none", "view.field.id",
    "view.field.scheduled_at", "view.field.payment_intent_id", "view.col.note", "view.outcome.ok",
    "view.link_method.oauth", "config.label.mode", "config.value.stripe", "config.value.mode_test", "confirm.mode",
    "unlink.action", "moves.row.consultation", "moves.row.net", "view.field.date", "pdf.col.date",
    "remind.mail.col.consultation", "remind.mail.col.when", "view.reconcile.visit_at", "ledger.n_consultations",
    "remind.line", "statement.n_pages", "ledger_cmd.col.table", "ledger_cmd.label.server",
}
# English words that have no business in a French sentence (checked outside options, commands and quotes).
ENGLISH = re.compile(r"\b(the|and|with|your|please|cannot|is|was|not|this|that|for|of|to|from|has|have|will|could|should)\b", re.I)
CODE = re.compile(r"--?[\w-]+|«[^»]*»|'[^']*'|`[^`]*`|\{[^}]*\}|https?://\S+|\bsarapay [a-z -]+")
FIELDS = re.compile(r"\{(\w*)")


def _catalog() -> dict[str, dict[str, str]]:
    for module in pkgutil.walk_packages(sarapay.__path__, "sarapay."):
        if module.name.endswith("__main__") or module.name.startswith("sarapay.sandbox"):
            continue  # __main__ runs the program; the sandbox speaks Stripe's English on purpose
        importlib.import_module(module.name)
    return i18n.catalog()


CATALOG = _catalog()


def test_the_catalog_is_not_empty():
    assert len(CATALOG) > 300


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_message_exists_in_both_languages(key):
    texts = CATALOG[key]
    assert set(texts) >= set(i18n.LANGS)
    assert all(texts[lang].strip() for lang in i18n.LANGS)
    assert set(FIELDS.findall(texts["fr"])) == set(FIELDS.findall(texts["en"])), "the same {placeholders}"
    if key not in SAME_ON_PURPOSE:
        assert texts["fr"] != texts["en"], "French identical to English: translate it, or list it in SAME_ON_PURPOSE"
    prose = CODE.sub(" ", texts["fr"])
    assert not ENGLISH.findall(prose), f"English left in the French text: {texts['fr']!r}"


def test_same_on_purpose_lists_only_real_keys():
    assert SAME_ON_PURPOSE <= set(CATALOG)


def test_french_help_says_its_own_help_option_in_french(monkeypatch):
    import typer.rich_utils
    from typer.testing import CliRunner

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 200)  # no wrapping inside the sentences checked
    from sarapay.cli import app

    runner = CliRunner()
    for words in (["--help"], ["capture", "--help"], ["config", "--help"], ["config", "show", "--help"], ["status", "--help"]):
        out = runner.invoke(app, words, env={"SARAPAY_LANG": "fr", "NO_COLOR": "1"}).stdout
        assert "Affiche cette aide et quitte." in out, words
        assert "Show this message" not in out and "Install completion" not in out, words
    english = runner.invoke(app, ["--lang", "en", "capture", "--help"], env={"NO_COLOR": "1"}).stdout
    assert "Show this message and exit." in english


def test_usage_errors_use_typer_texts_in_french():
    from typer.testing import CliRunner

    from sarapay.cli import app

    result = CliRunner().invoke(app, ["capture"], env={"SARAPAY_LANG": "fr", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "Essayez 'sarapay capture -h' pour l'aide." in result.stderr and "Erreur" in result.stderr
