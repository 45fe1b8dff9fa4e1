"""`status --csv` for programs (comma, cents, ISO 8601 UTC) and `status --excel` for French spreadsheets
(semicolon, UTF-8 with BOM, `25,00`, `dd/mm/yyyy HH:MM` Paris time), both parsed back here."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from sarapay import settings
from sarapay.cli import app
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(61)


@pytest.fixture
def book(hermetic_home):
    with open_ledger(settings.ledger_path()) as ledger:
        ledger.upsert_practitioner(RPPS, name="Dre Export")
        # 09:30 UTC in July is 11:30 in Paris (summer time); in January, 10:30 (winter time).
        ledger.insert_consultation(
            "TC-8F3K2Q", rpps=RPPS, scheduled_at="2026-07-01T09:30:00Z", state="succeeded", paid_online=True,
            max_cents=250000, authorised_cents=250000, captured_cents=123450, fee_cents=1877, net_cents=121573,
            patient_ref="Réf-é",
        )
        ledger.insert_consultation(
            "TC-QQQQQQ", rpps=RPPS, scheduled_at="2026-01-05T09:30:00Z", state="no_online_payment",
        )
    return hermetic_home


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result


def test_csv_is_for_programs(book):
    rows = list(csv.DictReader(io.StringIO(invoke("status", "--csv").stdout)))
    first = rows[0]  # newest first: the July consultation
    assert first["id"] == "TC-8F3K2Q" and first["state"] == "succeeded"
    assert first["captured_cents"] == "123450" and first["fee_cents"] == "1877"
    assert first["scheduled_at"] == "2026-07-01T09:30:00Z" and first["paid_online"] == "true"
    assert first["currency"] == "eur"


def test_excel_is_for_french_spreadsheets(book):
    result = invoke("status", "--excel")
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the accents right
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, july, january = rows[0], rows[1], rows[2]
    record = dict(zip(header, july))
    assert record["Consultation"] == "TC-8F3K2Q"
    assert record["Date (Paris)"] == "01/07/2026 11:30"
    assert record["État"] == "Réussi" and record["Paiement en ligne"] == "oui"
    assert record["Capturé"] == "1234,50" and record["Montant maximum"] == "2500,00" and record["Frais Stripe"] == "18,77"
    assert record["Devise"] == "EUR" and record["Référence patient"] == "Réf-é"
    other = dict(zip(header, january))
    assert other["Date (Paris)"] == "05/01/2026 10:30" and other["État"] == "Sans paiement en ligne"
    assert other["Frais Stripe"] == ""  # unknown stays empty, not 0


def test_excel_keeps_the_filters_and_refuses_a_second_format(book):
    text = invoke("status", "--excel", "--state", "Réussi").stdout_bytes.decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 2
    result = CliRunner().invoke(app, ["status", "--excel", "--csv"])
    assert result.exit_code == 2
