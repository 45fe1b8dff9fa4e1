"""`sarapay fees AMOUNT`: the fee estimate, by hand: round_half_up(amount × rate) + fixed part.

    2500 × 1,5 % = 37,5 → 38 + 25 = 63  (net 2437)
    2500 × 1,4 % = 35        + 25 = 60  (net 2440)
    2000 × 1,5 % = 30        + 25 = 55  (net 1945)
    2550 × 1,5 % = 38,25 → 38 + 25 = 63  (net 2487)
    2500 × 1,4 % = 35        + 30 = 65  (--fixed 0,30)
"""

from __future__ import annotations

import json

import pytest

from sarapay import settings

EUR = "\u00a0€"


@pytest.mark.parametrize(
    "args, fee, net",
    [
        (["25"], 63, 2437),
        (["25", "--rate", "1.4"], 60, 2440),
        (["25", "--rate", "1,4"], 60, 2440),
        (["20"], 55, 1945),
        (["25,50 €"], 63, 2487),
        (["25", "--rate", "1.4", "--fixed", "0,30"], 65, 2435),
    ],
)
def test_fee_and_net_in_cents(run, args, fee, net):
    result = run("fees", *args, "--json")
    assert result.exit_code == 0, result.stderr
    estimate = json.loads(result.stdout)
    assert (estimate["fee_cents"], estimate["net_cents"], estimate["currency"]) == (fee, net, "eur")
    assert estimate["amount_cents"] == fee + net


def test_json_keys_and_rate_as_text(run):
    estimate = json.loads(run("fees", "25", "--rate", "1,4", "--json").stdout)
    assert estimate == {"amount_cents": 2500, "fee_cents": 60, "net_cents": 2440, "currency": "eur", "rate_percent": "1.4", "fixed_cents": 25}


def test_french_output(run):
    result = run("fees", "25")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "25,00" + EUR in lines[0]
    assert "0,63" + EUR in lines[1] and "1,5\u00a0% + 0,25" + EUR in lines[1]
    assert "24,37" + EUR in lines[2] and "Net pour le praticien" in lines[2]
    assert result.stderr == ""


def test_english_output(run):
    result = run("--lang", "en", "fees", "25", "--rate", "1.4")
    assert "€0.60" in result.stdout and "1.4% + €0.25" in result.stdout and "€24.40" in result.stdout


@pytest.mark.parametrize(
    "args, start",
    [
        (["abc"], "Montant « abc » non reconnu"),
        (["-5"], "Le montant « -5 » est négatif"),
        (["0,30"], "Stripe n'encaisse pas moins de 0,50"),
        (["25", "--rate", "cent"], "Taux « cent » non reconnu"),
        (["25", "--rate", "150"], "Taux « 150 » non reconnu"),
        (["25", "--fixed", "x"], "Montant « x » non reconnu"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(run, args, start):
    result = run("fees", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(start) and len(result.stderr.strip().splitlines()) == 1


def test_touches_neither_stripe_nor_the_ledger(run, sandbox):
    sandbox.clear_requests()
    assert run("fees", "25").exit_code == 0
    assert not settings.ledger_path().exists()
    assert sandbox.requests() == []


def test_help_is_french_with_examples(run):
    result = run("fees", "--help")
    assert "Estime les frais Stripe" in result.stdout and "Exemples" in result.stdout
