"""`sarapay prefs set-max` and `sarapay prefs show`: the default maximum per teleconsultation.

Practitioners are registered through the Ledger API (as `sarapay link --email` does); one test goes
through `link` itself. Expected cents and French text are written by hand.
"""

from __future__ import annotations

import json

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

R1 = make_test_rpps(301)
R2 = make_test_rpps(302)
NBSP = "\u00a0"


def ledger():
    return open_ledger(settings.ledger_path())


def register(rpps: str, **fields) -> None:
    with ledger() as book:
        book.upsert_practitioner(rpps, **fields)


def default_max(rpps: str) -> int:
    with ledger() as book:
        return book.get_practitioner(rpps).default_max_cents


def audit_count() -> int:
    with ledger() as book:
        return len(book.list_audit(1000))


@pytest.mark.parametrize(
    "typed, cents, shown",
    [("30", 3000, f"30,00{NBSP}€"), ("25,50", 2550, f"25,50{NBSP}€"), ("25.50 €", 2550, f"25,50{NBSP}€"), ("0,50", 50, f"0,50{NBSP}€"),
     ("500", 50000, f"500,00{NBSP}€")],
)
def test_set_max_accepts_french_and_dotted_amounts(run, sandbox, typed, cents, shown):
    register(R1)
    result = run("prefs", "set-max", R1, typed)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == shown
    assert default_max(R1) == cents
    assert f"avant : 25,00{NBSP}€" in result.stderr  # the default every practitioner starts with
    with ledger() as book:
        (entry,) = book.list_audit(10, command="prefs.set-max")
    assert (entry.target, entry.outcome, entry.detail) == (R1, "ok", f"2500->{cents}")
    assert sandbox.requests() == []  # a local preference: Stripe is not involved


def test_set_max_warns_from_70_euros_that_written_information_is_required(run, sandbox):
    register(R1)
    below = run("prefs", "set-max", R1, "69,99")
    assert below.exit_code == 0 and "information écrite" not in below.stderr
    at = run("prefs", "set-max", R1, "70")
    assert at.exit_code == 0
    assert "information écrite préalable" in at.stderr and f"70,00{NBSP}€" in at.stderr
    assert default_max(R1) == 7000
    data = json.loads(run("prefs", "set-max", R1, "80", "--json").stdout)
    assert (data["default_max_cents"], data["previous_cents"], data["written_information_required"]) == (8000, 7000, True)


def test_set_max_for_a_practitioner_registered_by_link(run, sandbox):
    assert run("link", R1, "--email", "dr.martin@example.fr").exit_code == 0
    assert run("prefs", "set-max", "8" + R1, "35").exit_code == 0  # IDNPS form of the same practitioner
    assert default_max(R1) == 3500


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("abc", "non reconnu"),
        ("-3", "négatif"),
        ("25,555", "plus de deux décimales"),
        ("1e9", "non reconnu"),
        ("0,10", "trop bas"),
        ("0", "trop bas"),
        ("500,01", "plafond"),
        ("2500000", "plafond"),
        ("", "Aucun montant"),
    ],
)
def test_set_max_bad_amounts_change_nothing(run, sandbox, typed, expected):
    register(R1, default_max_cents=3000)
    audits = audit_count()
    result = run("prefs", "set-max", R1, typed)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert default_max(R1) == 3000
    assert audit_count() == audits + 1  # the refusal itself, and nothing else
    assert sandbox.requests() == []


def test_set_max_unknown_practitioner_says_to_link_first(run, sandbox):
    register(R2)
    result = run("prefs", "set-max", R1, "30")
    assert result.exit_code == 2
    assert R1 in result.stderr and f"sarapay link {R1}" in result.stderr
    with ledger() as book:
        assert book.get_practitioner(R1) is None
        assert book.list_audit(1)[0].outcome == "refused"


def test_set_max_bad_rpps(run, sandbox):
    result = run("prefs", "set-max", "12345", "30")
    assert result.exit_code == 2 and "RPPS" in result.stderr
    with ledger() as book:
        assert book.list_practitioners() == []
        assert [(r.command, r.target, r.outcome) for r in book.list_audit(10)] == [
            ("prefs.set-max", "12345", "refused")
        ]


def test_show_lists_practitioners_with_masked_emails(run, sandbox):
    register(R1, name="Dr Martin", email="jean.martin@example.fr", account_id="acct_1234567890abcd", link_method="oauth",
             default_max_cents=3550)
    register(R2)
    result = run("prefs", "show")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    first = next(line for line in lines if R1 in line)
    for text in ("Dr Martin", "j***@example.fr", "acct_1234567890abcd", "Connect OAuth", f"35,50{NBSP}€"):
        assert text in first
    assert "jean.martin" not in result.stdout
    second = next(line for line in lines if R2 in line)
    assert "non lié" in second and f"25,00{NBSP}€" in second


def test_show_one_and_json(run, sandbox):
    register(R1, email="jean.martin@example.fr", default_max_cents=4000)
    register(R2)
    one = run("prefs", "show", R1)
    assert one.exit_code == 0 and R1 in one.stdout and R2 not in one.stdout
    data = json.loads(run("prefs", "show", "--json").stdout)
    assert [row["rpps"] for row in data] == [R1, R2]
    assert data[0] == {
        "rpps": R1, "name": None, "email": "jean.martin@example.fr", "account_id": None, "link_method": None,
        "linked_at": None, "default_max_cents": 4000, "currency": "eur", "livemode": False, "lang": "fr",
        "disconnected_at": None,
    }
    single = json.loads(run("--lang", "en", "prefs", "show", R2, "--json").stdout)
    assert single["rpps"] == R2 and single["default_max_cents"] == 2500


def test_show_unknown_and_empty(run, sandbox):
    empty = run("prefs", "show")
    assert empty.exit_code == 0 and empty.stdout == "" and "Aucun praticien" in empty.stderr
    assert json.loads(run("prefs", "show", "--json").stdout) == []
    unknown = run("prefs", "show", R1)
    assert unknown.exit_code == 2 and f"sarapay link {R1}" in unknown.stderr


def test_set_lang_for_the_practitioners_emails(run, sandbox):
    register(R1)
    assert json.loads(run("prefs", "show", R1, "--json").stdout)["lang"] == "fr"  # French unless set
    result = run("prefs", "set-lang", R1, "EN")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "en\n" and "avant : fr" in result.stderr
    with ledger() as book:
        assert book.get_practitioner(R1).lang == "en"
        [entry] = book.list_audit(1, command="prefs.set-lang")
    assert (entry.target, entry.outcome, entry.detail) == (R1, "ok", "fr->en")
    data = json.loads(run("prefs", "set-lang", R1, "fr", "--json").stdout)
    assert data["lang"] == "fr" and data["previous_lang"] == "en"


def test_set_lang_refuses_other_languages_and_unknown_practitioners(run, sandbox):
    register(R1)
    before = audit_count()
    bad = run("prefs", "set-lang", R1, "de")
    assert bad.exit_code == 2 and "fr (français, par défaut) ou en" in bad.stderr
    unknown = run("prefs", "set-lang", R2, "en")
    assert unknown.exit_code == 2 and f"sarapay link {R2}" in unknown.stderr
    assert audit_count() == before + 2  # both refusals are in the audit log
