"""Consultations: filters and totals on a hand-built data set, streaming, atomic updates, compare-and-set."""

from __future__ import annotations

import dataclasses
import inspect
import threading
from datetime import datetime, timezone

import pytest

from sarapay.errors import BadInput
from sarapay.ledger import open_ledger
from sarapay.records import Totals
from sarapay.rpps import make_test_rpps

A = make_test_rpps(0)  # 10000000009
B = make_test_rpps(123456)  # 10001234565

# (id, rpps, scheduled_at UTC, state, authorised, captured, refunded, fee, net)
ROWS = [
    ("TC-000001", A, "2026-01-05T09:00:00Z", "succeeded", 2500, 2000, 0, 55, 1945),
    ("TC-000002", A, "2026-01-06T09:00:00Z", "uncaptured", 2500, 0, 0, None, None),
    ("TC-000003", A, "2026-01-07T09:00:00Z", "partially_refunded", 3000, 3000, 1000, 70, 1930),
    ("TC-000004", B, "2026-01-05T14:00:00Z", "succeeded", 2500, 2500, 0, 63, 2437),
    ("TC-000005", B, "2026-01-08T10:00:00Z", "incomplete", 0, 0, 0, None, None),
    ("TC-000006", B, "2026-02-01T10:00:00Z", "no_online_payment", 0, 0, 0, None, None),
    ("TC-000007", A, "2026-02-02T10:00:00Z", "canceled", 2500, 0, 0, None, None),
]
IN_TIME_ORDER = ["TC-000001", "TC-000004", "TC-000002", "TC-000003", "TC-000005", "TC-000006", "TC-000007"]


@pytest.fixture
def data(ledger):
    ledger.upsert_practitioner(A, name="Dr A", account_id="acct_AAAAAAAA", link_method="oauth")
    ledger.upsert_practitioner(B, name="Dr B", account_id="acct_BBBBBBBB", link_method="created")
    for cid, rpps, at, state, authorised, captured, refunded, fee, net in ROWS:
        ledger.insert_consultation(
            cid, rpps=rpps, scheduled_at=at, state=state, paid_online=state != "no_online_payment",
            max_cents=3000 if cid == "TC-000003" else 2500, authorised_cents=authorised, captured_cents=captured,
            refunded_cents=refunded, fee_cents=fee, net_cents=net, payment_intent_id=f"pi_{cid[3:]}",
            checkout_session_id=f"cs_{cid[3:]}", closed_on_purpose=state == "canceled",
        )
    return ledger


def ids(rows) -> list[str]:
    return [row.id for row in rows]


# --- listing and filters -------------------------------------------------------------------------------------


def test_list_orders_by_scheduled_time_then_id(data):
    assert ids(data.list_consultations()) == IN_TIME_ORDER
    assert ids(data.list_consultations(newest_first=True)) == IN_TIME_ORDER[::-1]


def test_filters_by_practitioner_state_and_period(data):
    assert ids(data.list_consultations(rpps=B)) == ["TC-000004", "TC-000005", "TC-000006"]
    assert ids(data.list_consultations(state="succeeded")) == ["TC-000001", "TC-000004"]
    assert ids(data.list_consultations(state=["succeeded", "partially_refunded"])) == [
        "TC-000001", "TC-000004", "TC-000003",
    ]
    assert ids(data.list_consultations(rpps=B, state="succeeded")) == ["TC-000004"]
    assert data.list_consultations(state=[]) == []
    # since <= scheduled_at < until; 11:00 Paris on 1 Feb is 10:00 UTC, so TC-000006 is just excluded
    assert ids(data.list_consultations(since="2026-01-06T00:00:00Z", until="2026-02-01T11:00:00+01:00")) == [
        "TC-000002", "TC-000003", "TC-000005",
    ]
    assert ids(data.list_consultations(since=datetime(2026, 2, 1, 10, tzinfo=timezone.utc))) == [
        "TC-000006", "TC-000007",
    ]


def test_paging(data):
    assert ids(data.list_consultations(limit=3, offset=2)) == ["TC-000002", "TC-000003", "TC-000005"]
    assert ids(data.list_consultations(limit=2)) == ["TC-000001", "TC-000004"]
    assert data.list_consultations(offset=7) == []
    assert data.count_consultations() == 7
    assert data.count_consultations(rpps=A, state=["succeeded", "uncaptured"]) == 2


def test_naive_times_are_refused(data):
    with pytest.raises(ValueError):
        data.list_consultations(since="2026-01-06 00:00")


def test_totals_overall_per_state_and_filtered(data):
    totals = data.totals()
    # authorised 2500+2500+3000+2500 (the canceled TC-000007 holds nothing any more); captured 2000+3000+2500;
    # fees 55+70+63; net 1945+1930+2437
    assert dataclasses.replace(totals, by_state={}) == Totals(
        count=7, authorised_cents=10500, captured_cents=7500, refunded_cents=1000, fee_cents=188, net_cents=6312,
    )
    assert totals.by_state["succeeded"] == Totals(
        count=2, authorised_cents=5000, captured_cents=4500, refunded_cents=0, fee_cents=118, net_cents=4382,
    )
    assert totals.by_state["no_online_payment"].count == 1
    assert totals.by_state["canceled"].authorised_cents == 0  # released: not counted as authorised
    assert list(totals.by_state) == sorted(totals.by_state)
    assert sum(s.count for s in totals.by_state.values()) == 7

    a = data.totals(rpps=A)  # TC-000001, 2, 3, 7 (7 canceled: its 2500 no longer held)
    assert (a.count, a.authorised_cents, a.captured_cents, a.refunded_cents, a.fee_cents,
            a.net_cents) == (4, 8000, 5000, 1000, 125, 3875)
    january_b = data.totals(rpps=B, since="2026-01-01T00:00:00Z", until="2026-02-01T00:00:00Z")
    assert january_b.count == 2 and january_b.captured_cents == 2500
    assert set(january_b.by_state) == {"succeeded", "incomplete"}


def test_totals_of_nothing_are_zero(ledger):
    assert ledger.totals() == Totals(
        count=0, authorised_cents=0, captured_cents=0, refunded_cents=0, fee_cents=0, net_cents=0, by_state={},
    )


def test_non_final_and_lookups(data):
    assert ids(data.non_final()) == ["TC-000002", "TC-000005"]
    assert ids(data.non_final(rpps=B)) == ["TC-000005"]
    assert data.find_by_payment_intent("pi_000003").id == "TC-000003"
    assert data.find_by_checkout_session("cs_000004").id == "TC-000004"
    assert data.find_by_payment_intent("pi_nope") is None
    assert data.get_consultation("TC-ZZZZZZ") is None


def test_rows_come_back_with_python_types(data):
    row = data.get_consultation("TC-000007")
    assert row.paid_online is True and row.closed_on_purpose is True
    assert row.scheduled_at == "2026-02-02T10:00:00Z"
    assert row.fee_cents is None and row.currency == "eur"
    assert data.get_consultation("TC-000006").paid_online is False


# --- streaming -----------------------------------------------------------------------------------------------


def test_iter_consultations_is_a_lazy_generator_in_order(data):
    stream = data.iter_consultations(state=["succeeded", "uncaptured", "incomplete"])
    assert inspect.isgenerator(stream)
    # Nothing is read before the first next(): a row added now is part of the stream.
    data.insert_consultation("TC-000008", rpps=B, scheduled_at="2026-03-01T10:00:00Z", state="incomplete")
    assert next(stream).id == "TC-000001"
    assert ids(stream) == ["TC-000004", "TC-000002", "TC-000005", "TC-000008"]
    assert ids(data.iter_consultations(rpps=A, newest_first=True)) == ["TC-000007", "TC-000003", "TC-000002", "TC-000001"]


def test_a_closed_stream_releases_its_cursor(data):
    stream = data.iter_consultations()
    next(stream)
    stream.close()
    data.update_consultation("TC-000002", state="succeeded", captured_cents=2500)  # no pending statement in the way
    assert data.get_consultation("TC-000002").state == "succeeded"


# --- writes --------------------------------------------------------------------------------------------------


def test_update_sets_fields_together_and_logs_state_changes(data):
    row = data.update_consultation(
        "TC-000002", state="succeeded", captured_cents=1800, fee_cents=52, net_cents=1748,
        stripe_synced_at=datetime(2026, 1, 6, 15, 0, tzinfo=timezone.utc), note="capture 18,00 €",
    )
    assert (row.state, row.captured_cents, row.fee_cents, row.net_cents) == ("succeeded", 1800, 52, 1748)
    assert row.stripe_synced_at == "2026-01-06T15:00:00Z"
    data.update_consultation("TC-000002", fee_cents=52)  # no state change, no note: no history line
    data.add_history("TC-000002", note="reçu envoyé")
    assert [(h.state, h.note) for h in data.history("TC-000002")] == [
        ("uncaptured", None), ("succeeded", "capture 18,00 €"), (None, "reçu envoyé"),
    ]


def test_transaction_rolls_back_every_write_on_error(data, ledger_path):
    with pytest.raises(RuntimeError):
        with data.transaction():
            data.update_consultation("TC-000002", state="succeeded", captured_cents=2500)
            data.append_audit("capture", outcome="ok", target="TC-000002")
            raise RuntimeError("Stripe said no")
    assert data.get_consultation("TC-000002").state == "uncaptured"
    assert data.list_audit() == []
    assert len(data.history("TC-000002")) == 1


def test_other_connections_see_a_transaction_all_at_once(data, ledger_target):
    with open_ledger(ledger_target) as other:
        with data.transaction():
            data.update_consultation("TC-000002", state="succeeded")
            data.update_consultation("TC-000002", captured_cents=2500)
            seen = other.get_consultation("TC-000002")
            assert (seen.state, seen.captured_cents) == ("uncaptured", 0)
        seen = other.get_consultation("TC-000002")
        assert (seen.state, seen.captured_cents) == ("succeeded", 2500)


def test_nested_transactions_roll_back_only_the_inner_block(data):
    with data.transaction():
        data.update_consultation("TC-000002", patient_ref="dossier-42")
        with pytest.raises(ValueError):
            with data.transaction():
                data.update_consultation("TC-000002", state="succeeded")
                raise ValueError
    row = data.get_consultation("TC-000002")
    assert (row.patient_ref, row.state) == ("dossier-42", "uncaptured")


def test_compare_and_set(data):
    assert data.update_if_state("TC-000002", "uncaptured", state="succeeded", captured_cents=2500)
    assert not data.update_if_state("TC-000002", "uncaptured", state="canceled")
    assert data.get_consultation("TC-000002").state == "succeeded"
    assert data.update_if_state("TC-000002", ["succeeded", "partially_refunded"], state="refunded", refunded_cents=2500)
    with pytest.raises(BadInput) as excinfo:
        data.update_if_state("TC-ZZZZZZ", "uncaptured", state="succeeded")
    assert excinfo.value.key == "ledger.unknown_consultation"


def test_compare_and_set_race_between_two_connections(data, ledger_target):
    """Two terminals capture the same hold at the same moment: exactly one wins, every time."""
    for attempt in range(10):
        data.update_consultation("TC-000002", state="uncaptured", captured_cents=0)
        barrier = threading.Barrier(2)
        results: list[bool] = []
        errors: list[BaseException] = []

        def capture(amount: int) -> None:
            try:
                with open_ledger(ledger_target) as mine:
                    barrier.wait()
                    results.append(
                        mine.update_if_state("TC-000002", "uncaptured", state="succeeded", captured_cents=amount)
                    )
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=capture, args=(amount,)) for amount in (1500, 2500)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(results) == [False, True], attempt
    states = [h.state for h in data.history("TC-000002")]
    assert states.count("succeeded") == 10  # one winner per attempt, never two


def test_insert_refuses_unknown_practitioner_and_duplicates(data):
    with pytest.raises(BadInput) as excinfo:
        data.insert_consultation("TC-000099", rpps=make_test_rpps(42), scheduled_at="2026-01-05T09:00:00Z", state="incomplete")
    assert excinfo.value.key == "ledger.unknown_practitioner"
    with pytest.raises(BadInput) as excinfo:
        data.insert_consultation("TC-000001", rpps=A, scheduled_at="2026-01-05T09:00:00Z", state="incomplete")
    assert excinfo.value.key == "ledger.duplicate_consultation"
    with pytest.raises(BadInput):
        data.update_consultation("TC-ZZZZZZ", state="succeeded")


def test_money_is_never_a_float_and_states_are_known(data):
    with pytest.raises(TypeError):
        data.update_consultation("TC-000002", captured_cents=25.0)
    with pytest.raises(TypeError):
        data.update_consultation("TC-000002", captured_cents=True)
    with pytest.raises(ValueError):
        data.update_consultation("TC-000002", refunded_cents=-1)
    with pytest.raises(ValueError):
        data.update_consultation("TC-000002", state="paid")
    with pytest.raises(TypeError):
        data.update_consultation("TC-000002", card_number="4242424242424242")
    assert data.update_consultation("TC-000002", net_cents=-120).net_cents == -120  # Stripe's net can go negative


@pytest.mark.parametrize("text", ["carte 4242 4242 4242 4242", "4000-0000-0000-0002", "pan=4000000000009995"])
def test_card_numbers_never_reach_the_ledger(data, text):
    with pytest.raises(BadInput) as excinfo:
        data.add_history("TC-000002", note=text)
    assert excinfo.value.key == "ledger.card_number_refused"
    with pytest.raises(BadInput):
        data.update_consultation("TC-000002", patient_ref=text)
    assert text not in excinfo.value.message
    # Ordinary numbers are fine: RPPS, amounts, a unix time, a phone number.
    data.add_history("TC-000002", note=f"RPPS {A}, 25,00 €, 1767603600, 06 12 34 56 78")


def test_consultation_ids_by_stripe_id_on_both_backends(data):
    """Arrived from the statements branch: payout contents and statements name many Stripe ids at once."""
    data.update_consultation("TC-000002", charge_id="ch_000002")
    many = [f"pi_{n:06d}" for n in range(900)] + ["ch_000002", "pi_unknown", ""]
    found = data.consultation_ids_by_stripe_id(many)
    assert found["pi_000001"] == "TC-000001" and found["ch_000002"] == "TC-000002"
    assert "pi_unknown" not in found and set(found) <= set(many)


def test_pending_money_moves_oldest_first_on_both_backends(data):
    """Arrived from main (moves in doubt): `m.rowid` is SQLite's rowid, and the hidden identity on PostgreSQL."""
    data.begin_money_move("key-b", "TC-000002", "capture", 2500)
    data.begin_money_move("key-a", "TC-000002", "cancel", 0)
    data.begin_money_move("key-c", "TC-000001", "refund", 100)
    data.finish_money_move("key-c", "done")
    moves = data.pending_money_moves(created_before="2999-01-01T00:00:00Z")
    assert [m["idempotency_key"] for m in moves] == ["key-b", "key-a"]  # same second: insertion order
    assert "rowid" not in moves[0]
    assert data.pending_money_moves(created_before="2000-01-01T00:00:00Z") == []
    assert data.pending_money_moves(created_before="2999-01-01T00:00:00Z", rpps=B) == [] or all(
        m["consultation_id"] != "TC-000001" for m in data.pending_money_moves(created_before="2999-01-01T00:00:00Z", rpps=B))
