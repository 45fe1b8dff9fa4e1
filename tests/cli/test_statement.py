"""`sarapay statement RPPS --month YYYY-MM`: the monthly statement from the sandbox over HTTP, Stripe's clock
moved to chosen Paris times. Expected amounts come from the fee rule (1,5 % + 0,25 €, half up) and the
month bounds from zoneinfo, computed here; never copied from the output."""

from __future__ import annotations

import calendar
import csv
import io
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from .payments_helpers import DAY, authorised, half_up_fee, link_practitioner

PARIS = ZoneInfo("Europe/Paris")
EUR = "\u00a0€"
PATIENT_REF = "PAT-SECRET-42"
PATIENT_EMAIL = "patiente.secrete@example.org"


def euros(cents: int) -> str:
    """`19,45` (French, no symbol), from integer cents."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def move_to(sandbox, moment: datetime) -> None:
    """Stripe's clock to `moment` (it only moves forward)."""
    seconds = int(moment.timestamp()) - sandbox.now()
    assert seconds >= 0, "the chosen moment is already past"
    sandbox.advance(seconds)


def next_31_day_month(sandbox) -> tuple[int, int]:
    """The first month of 31 days that starts at least two days after Stripe's now."""
    day = datetime.fromtimestamp(sandbox.now(), PARIS) + timedelta(days=2)
    year, month = day.year, day.month + 1
    while True:
        if month == 13:
            year, month = year + 1, 1
        if calendar.monthrange(year, month)[1] == 31:
            return year, month
        month += 1


def last_seq(sandbox) -> int:
    log = sandbox.requests()
    return log[-1]["seq"] if log else 0


def capture_at(run, sandbox, rpps: str, moment: datetime, amount: str | None = None) -> str:
    move_to(sandbox, moment - timedelta(minutes=5))
    cid = authorised(run, sandbox, rpps, "--patient-ref", PATIENT_REF, "--email", PATIENT_EMAIL)
    move_to(sandbox, moment)
    args = ["capture", cid, "--yes"] if amount is None else ["capture", cid, amount, "--yes"]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return cid


@pytest.fixture
def month_story(run, sandbox):
    """In a 31-day month M (Paris time): a 25,00 € capture on the 1st at 10:00 then a 5,00 € refund of it,
    an 18,00 € capture (of a 25,00 € hold) on the 31st at 23:30; on M+1's 1st at 00:30 Paris (still M in
    UTC), a 20,00 € capture. The daily payout of the first capture arrives during M."""
    practitioner = link_practitioner(sandbox, 401, name="Dre Élise Martin")
    rpps = practitioner["rpps"]
    year, month = next_31_day_month(sandbox)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    first = capture_at(run, sandbox, rpps, datetime(year, month, 1, 10, 0, tzinfo=PARIS))
    move_to(sandbox, datetime(year, month, 2, 9, 0, tzinfo=PARIS))
    assert run("refund", first, "5", "--yes").exit_code == 0
    late = capture_at(run, sandbox, rpps, datetime(year, month, 31, 23, 30, tzinfo=PARIS), "18")
    after = capture_at(run, sandbox, rpps, datetime(*following, 1, 0, 30, tzinfo=PARIS), "20")
    return {
        "rpps": rpps, "account": practitioner["account"], "month": f"{year:04d}-{month:02d}",
        "next_month": f"{following[0]:04d}-{following[1]:02d}", "year": year, "month_number": month,
        "first": first, "late": late, "after": after,
    }


def expected_totals() -> dict:
    fee_first, fee_late = half_up_fee(2500), half_up_fee(1800)
    return {
        "charges": {"count": 2, "amount_cents": 4300, "fee_cents": fee_first + fee_late,
                    "net_cents": 4300 - fee_first - fee_late},
        "refunds": {"count": 1, "amount_cents": -500, "fee_cents": 0, "net_cents": -500},
        "disputes": {"count": 0, "amount_cents": 0, "fee_cents": 0, "net_cents": 0},
        "other": {"count": 0, "amount_cents": 0, "fee_cents": 0, "net_cents": 0},
        "transactions": {"count": 3, "amount_cents": 3800, "fee_cents": fee_first + fee_late,
                         "net_cents": 3800 - fee_first - fee_late},
        # The first capture's net less its refund, paid out once available (7 days), arrived 2 days later.
        "payouts": {"count": 1, "amount_cents": 2500 - fee_first - 500},
    }


def test_json_month_in_paris_time_with_stripe_amounts(run, sandbox, month_story):
    since = last_seq(sandbox)
    result = run("statement", month_story["rpps"], "--month", month_story["month"], "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["rpps", "name", "account_id", "month", "period", "generated_at", "transactions", "payouts", "totals"]
    assert (doc["rpps"], doc["name"], doc["account_id"], doc["month"]) == (
        month_story["rpps"], "Dre Élise Martin", month_story["account"], month_story["month"])
    start = datetime(month_story["year"], month_story["month_number"], 1, tzinfo=PARIS).astimezone(timezone.utc)
    assert doc["period"]["start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["period"]["end"].endswith("Z")

    lines = doc["transactions"]
    assert [(row["consultation_id"], row["kind"], row["amount_cents"], row["fee_cents"], row["net_cents"]) for row in lines] == [
        (month_story["first"], "charge", 2500, half_up_fee(2500), 2500 - half_up_fee(2500)),
        (month_story["first"], "refund", -500, 0, -500),
        (month_story["late"], "charge", 1800, half_up_fee(1800), 1800 - half_up_fee(1800)),
    ]
    # The 23:30 capture of the 31st belongs to the month; 00:30 on the 1st of the next does not (though UTC says so).
    late_at = datetime.fromisoformat(lines[2]["created"].replace("Z", "+00:00")).astimezone(PARIS)
    assert (late_at.day, late_at.hour, late_at.minute) == (31, 23, 30)
    assert month_story["after"] not in json.dumps(doc)
    assert all(row["kind"] != "payout" for row in lines)

    [payout] = doc["payouts"]
    assert payout["status"] == "paid" and payout["id"].startswith("po_")
    assert doc["totals"] == {"eur": expected_totals()}
    # Nothing about the patient.
    assert PATIENT_REF not in result.stdout and PATIENT_EMAIL not in result.stdout
    # One list request for the month's transactions (sources expanded), one for the payouts that arrived.
    gets = [r for r in sandbox.requests(since) if r["method"] == "GET"]
    assert [r["path"] for r in gets] == ["/v1/balance_transactions", "/v1/payouts"]
    assert "data.source" in json.dumps(gets[0]["params"])


def test_the_next_month_starts_at_midnight_paris(run, sandbox, month_story):
    doc = json.loads(run("statement", month_story["rpps"], "--month", month_story["next_month"], "--json").stdout)
    assert [(row["consultation_id"], row["kind"], row["amount_cents"]) for row in doc["transactions"]] == [
        (month_story["after"], "charge", 2000)]
    assert doc["totals"]["eur"]["charges"]["fee_cents"] == half_up_fee(2000)
    assert doc["payouts"] == []


def test_csv_carries_cents_and_iso_times(run, sandbox, month_story):
    result = run("statement", month_story["rpps"], "--month", month_story["month"], "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["date", "kind", "consultation_id", "amount_cents", "fee_cents", "net_cents", "currency",
                             "stripe_id", "type", "source_id", "status"]
    assert [(r["kind"], r["consultation_id"], r["amount_cents"]) for r in rows] == [
        ("charge", month_story["first"], "2500"), ("refund", month_story["first"], "-500"),
        ("charge", month_story["late"], "1800"), ("payout", "", str(expected_totals()["payouts"]["amount_cents"])),
    ]
    assert rows[0]["fee_cents"] == str(half_up_fee(2500)) and rows[0]["currency"] == "eur"
    assert all(r["date"].endswith("Z") for r in rows)
    assert rows[3]["stripe_id"].startswith("po_") and rows[3]["fee_cents"] == ""


def test_excel_is_french(run, sandbox, month_story):
    result = run("statement", month_story["rpps"], "--month", month_story["month"], "--excel")
    assert result.exit_code == 0, result.stderr
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, first, refund, late, payout = rows
    assert header[:6] == ["Date (Paris)", "Opération", "Consultation", "Montant", "Frais Stripe", "Net pour le praticien"]
    record = dict(zip(header, late))
    assert record["Montant"] == "18,00"
    assert record["Frais Stripe"] == euros(half_up_fee(1800))
    assert record["Net pour le praticien"] == euros(1800 - half_up_fee(1800))
    assert record["Opération"] == "Paiement" and record["Consultation"] == month_story["late"]
    assert record["Date (Paris)"].endswith(f"/{month_story['year']} 23:30") and record["Date (Paris)"].startswith("31/")
    assert dict(zip(header, refund))["Opération"] == "Remboursement"
    assert dict(zip(header, refund))["Montant"] == "-5,00"
    payout_row = dict(zip(header, payout))
    assert (payout_row["Opération"], payout_row["Statut"]) == ("Versement", "Payé")
    assert "\r\n" in raw.decode("utf-8-sig")


def test_pdf_reads_back_with_the_totals_and_no_patient_data(run, sandbox, month_story, tmp_path):
    from pypdf import PdfReader

    target = tmp_path / "releve.pdf"
    result = run("statement", month_story["rpps"], "--month", month_story["month"], "--pdf", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert str(target) in result.stderr
    reader = PdfReader(str(target))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
    month_name = ("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
                  .split()[month_story["month_number"] - 1])
    assert f"Relevé mensuel — {month_name} {month_story['year']}" in text
    assert "Dre Élise Martin" in text and month_story["rpps"] in text
    assert month_story["first"] in text and month_story["late"] in text and month_story["after"] not in text
    totals = expected_totals()
    for cents in (totals["charges"]["amount_cents"], totals["charges"]["fee_cents"], totals["transactions"]["net_cents"],
                  totals["payouts"]["amount_cents"], -500):
        assert f"{euros(cents)} €" in text, euros(cents)
    assert "Généré le" in text and "Page 1 sur" in text
    assert "Consultations encaissées" in text and "Remboursements" in text and "Versements arrivés" in text
    assert PATIENT_REF not in text and PATIENT_EMAIL not in text and "patiente" not in text
    assert reader.metadata.title.startswith("Relevé mensuel")


def test_human_view_fits_80_columns(run, sandbox, month_story, monkeypatch):
    from sarapay.render import console

    monkeypatch.setattr(console, "isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("SARAPAY_PAGER", "cat")
    console._consoles.clear()
    try:
        result = run("statement", month_story["rpps"], "--month", month_story["month"])
    finally:
        console._consoles.clear()
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    out = result.stdout
    assert "Consultations encaissées" in out and "Versements arrivés" in out and month_story["late"] in out
    net = expected_totals()["transactions"]["net_cents"]
    assert f"{euros(net)}{EUR}" in out


def test_an_empty_month_says_so(run, sandbox):
    rpps = link_practitioner(sandbox, 402)["rpps"]
    result = run("statement", rpps, "--month", "2020-02")
    assert result.exit_code == 0, result.stderr
    assert "Aucune transaction Stripe ce mois-ci." in result.stderr
    doc = json.loads(run("statement", rpps, "--month", "02/2020", "--json").stdout)
    assert doc["transactions"] == [] and doc["payouts"] == [] and doc["month"] == "2020-02"
    assert doc["totals"]["eur"]["transactions"] == {"count": 0, "amount_cents": 0, "fee_cents": 0, "net_cents": 0}


def test_an_empty_month_still_makes_a_pdf(run, sandbox, tmp_path):
    from pypdf import PdfReader

    rpps = link_practitioner(sandbox, 403, name=None)["rpps"]
    target = tmp_path / "vide.pdf"
    assert run("statement", rpps, "--month", "2020-02", "--pdf", target).exit_code == 0
    text = "\n".join(page.extract_text() for page in PdfReader(str(target)).pages)
    assert "Aucune consultation encaissée ce mois-ci." in text and f"RPPS {rpps}" in text


@pytest.mark.parametrize("month", ["2026-13", "2026", "nov", "2026-00", "13/2026", ""])
def test_a_malformed_month_exits_2_before_any_request(run, sandbox, month):
    rpps = link_practitioner(sandbox, 404)["rpps"]
    since = last_seq(sandbox)
    result = run("statement", rpps, "--month", month)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "AAAA-MM" in result.stderr
    assert [r for r in sandbox.requests(since) if r["method"] == "GET"] == []


def test_pdf_with_another_format_or_an_unwritable_path_exits_2(run, sandbox, tmp_path):
    rpps = link_practitioner(sandbox, 405)["rpps"]
    both = run("statement", rpps, "--month", "2026-11", "--pdf", tmp_path / "x.pdf", "--json")
    assert (both.exit_code, both.stdout) == (2, "")
    nowhere = run("statement", rpps, "--month", "2026-11", "--pdf", tmp_path / "missing" / "x.pdf")
    assert nowhere.exit_code == 2
    assert "Impossible d'écrire le PDF" in nowhere.stderr
    assert not (tmp_path / "missing").exists()


def test_english_statement(run, sandbox, month_story):
    result = run("--lang", "en", "statement", month_story["rpps"], "--month", month_story["month"])
    assert result.exit_code == 0
    assert "Consultations captured" in result.stdout and "Payouts that arrived in the month" in result.stdout


def test_a_later_payout_is_in_the_month_it_arrives(run, sandbox, month_story):
    """The 31st's capture is paid out in the following month: listed there, not in its own."""
    sandbox.advance(12 * DAY)
    later = json.loads(run("statement", month_story["rpps"], "--month", month_story["next_month"], "--json").stdout)
    assert len(later["payouts"]) == 1
    expected = (1800 - half_up_fee(1800)) + (2000 - half_up_fee(2000))
    assert later["totals"]["eur"]["payouts"] == {"count": 1, "amount_cents": expected}
    own = json.loads(run("statement", month_story["rpps"], "--month", month_story["month"], "--json").stdout)
    assert own["totals"]["eur"]["payouts"]["count"] == 1


def test_only_pdf_output_imports_the_pdf_library(run, sandbox, tmp_path):
    """The PDF library (and Pillow under it) loads for --pdf only: --json does not pay for it."""
    import subprocess
    import sys

    rpps = link_practitioner(sandbox, 406)["rpps"]
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['sarapay'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('sarapay', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('PDF=' + str('fpdf' in sys.modules) + '\\n')\n"
    )

    def loads_pdf(*args: str) -> bool:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
        return [line for line in done.stderr.splitlines() if line.startswith("PDF=")][-1] == "PDF=True"

    assert loads_pdf("statement", rpps, "--month", "2020-02", "--json") is False
    assert loads_pdf("statement", rpps, "--month", "2020-02", "--pdf", str(tmp_path / "r.pdf")) is True
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
