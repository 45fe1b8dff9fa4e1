"""Balance transactions as payout / statement lines, on transactions shaped as Stripe documents them
(stripe.md §6, §13), including disputes, which the sandbox may not produce yet: a withdrawal is an
`adjustment` whose source is the dispute (`dp_…`, reporting category `dispute`) with the dispute fee in its
`fee`; a reinstatement gives the amount back (`dispute_reversal`). The ledger is a real one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps
from sarapay.services import balance_lines

T0 = int(datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc).timestamp())  # 23:30 Paris


def txn(id_: str, type_: str, amount: int, fee: int, source, category: str | None = None, created: int = T0) -> dict:
    return {"id": id_, "object": "balance_transaction", "type": type_, "amount": amount, "fee": fee, "net": amount - fee,
            "currency": "eur", "created": created, "reporting_category": category or type_, "source": source,
            "status": "available"}


@pytest.fixture
def book(hermetic_home):
    rpps = make_test_rpps(501)
    with open_ledger(settings.ledger_path()) as ledger:
        ledger.upsert_practitioner(rpps, name="Dr Litige")
        ledger.insert_consultation("TC-DISPUT", rpps=rpps, scheduled_at="2026-11-30T09:00:00Z", state="succeeded",
                                   paid_online=True, payment_intent_id="pi_disputed", charge_id="ch_disputed")
        ledger.insert_consultation("TC-REFUND", rpps=rpps, scheduled_at="2026-11-29T09:00:00Z", state="refunded",
                                   paid_online=True, payment_intent_id="pi_refunded", charge_id="ch_refunded")
        yield ledger


def test_disputes_are_labelled_from_their_source_and_linked_to_the_consultation(book):
    dispute = {"id": "dp_1", "object": "dispute", "amount": 2500, "charge": "ch_disputed", "payment_intent": "pi_disputed",
               "metadata": {}}
    withdrawal = txn("txn_w", "adjustment", -2500, 2000, dispute, "dispute")
    reinstated = txn("txn_r", "adjustment", 2500, 0, dispute, "dispute_reversal", created=T0 + 60)
    lines = balance_lines.build_lines(book, [reinstated, withdrawal])  # Stripe's order: newest first
    assert [(row["kind"], row["consultation_id"], row["amount_cents"], row["fee_cents"], row["net_cents"]) for row in lines] == [
        ("dispute_withdrawal", "TC-DISPUT", -2500, 2000, -4500),
        ("dispute_reinstatement", "TC-DISPUT", 2500, 0, 2500),
    ]
    assert lines[0]["source_id"] == "dp_1" and lines[0]["type"] == "adjustment"
    assert balance_lines.totals(lines) == {"count": 2, "amount_cents": 0, "fee_cents": 2000, "net_cents": -2000}


def test_a_dispute_source_left_as_an_id_is_still_a_dispute():
    assert balance_lines.kind_of(txn("t", "adjustment", -1800, 2000, "dp_123")) == "dispute_withdrawal"
    assert balance_lines.kind_of(txn("t", "dispute", -1800, 2000, None)) == "dispute_withdrawal"
    assert balance_lines.kind_of(txn("t", "adjustment", 1800, 0, None, "dispute_reversal")) == "dispute_reinstatement"
    assert balance_lines.kind_of(txn("t", "adjustment", -100, 0, None, "other_adjustment")) == "other"
    assert balance_lines.kind_of(txn("t", "payment", 2500, 63, "py_1")) == "charge"
    assert balance_lines.kind_of(txn("t", "stripe_fee", -150, 0, None, "fee")) == "other"


def test_consultation_from_charge_metadata_or_the_ledger(book):
    charge = {"id": "ch_other", "object": "charge", "payment_intent": "pi_other", "metadata": {"consultation_id": "TC-META01"}}
    refund = {"id": "re_1", "object": "refund", "charge": "ch_refunded", "payment_intent": "pi_refunded",
              "metadata": {"sarapay": "1"}}
    unknown = {"id": "re_2", "object": "refund", "charge": "ch_nobody", "payment_intent": "pi_nobody", "metadata": {}}
    lines = balance_lines.build_lines(book, [
        txn("txn_3", "refund", -300, 0, unknown, created=T0 + 2),
        txn("txn_2", "refund", -500, 0, refund, created=T0 + 1),
        txn("txn_1", "charge", 2500, 63, charge),
    ])
    assert [(row["id"], row["kind"], row["consultation_id"]) for row in lines] == [
        ("txn_1", "charge", "TC-META01"), ("txn_2", "refund", "TC-REFUND"), ("txn_3", "refund", None),
    ]
    assert lines[0]["created"] == "2026-11-30T22:30:00Z"
    assert list(lines[0]) == list(balance_lines.LINE_FIELDS)


def test_pdf_text_keeps_french_and_degrades_other_scripts():
    from sarapay.render.pdf import _text

    assert _text("Relevé — 1\u202f234,50\u00a0€ « ok »") == "Relevé — 1\u00a0234,50\u00a0€ « ok »"
    assert _text("Dre Nguyễn") == "Dre Nguyen"
    assert _text("王医生") == "???"
