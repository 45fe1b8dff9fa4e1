"""The ledger's typed records (sarapay/records.py), the same on both backends: every read returns a frozen
record whose values have the types the records declare, and the one field table (CONSULTATION_FIELDS)
agrees with the schema and drives the ledger's checks, the machine keys, the detail order and the totals."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime, timezone

import pytest

from sarapay import records
from sarapay.errors import BadInput
from sarapay.records import AuditEntry, Consultation, HistoryEntry, Practitioner, Totals
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(7)
HELD = "TC-HELDAA"
OFFLINE = "TC-OFFAAA"


def _types(cls: type) -> dict[str, tuple[type, ...]]:
    """The runtime types each field of a record may hold (`int | None` → (int, NoneType))."""
    hints = typing.get_type_hints(cls)
    found = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        found[field.name] = tuple(type(None) if arg is type(None) else typing.get_origin(arg) or arg for arg in args)
    return found


def _assert_typed(record: object) -> None:
    """Each value has its declared type exactly (a bool is not taken for an int, nor a Decimal for one)."""
    for name, allowed in _types(type(record)).items():
        value = getattr(record, name)
        exact = (int, str, bool, type(None))
        assert any(type(value) is kind if kind in exact else isinstance(value, kind) for kind in allowed), (
            f"{type(record).__name__}.{name} = {value!r} is not {allowed}")


@pytest.fixture
def filled(ledger):
    ledger.upsert_practitioner(RPPS, name="Dr Typée", email="dr@example.org", account_id="acct_TYPED123",
                               link_method="oauth", linked_at="2026-01-05T09:00:00+01:00")
    ledger.insert_consultation(
        HELD, rpps=RPPS, scheduled_at="2026-01-10T09:30:00+01:00", state="uncaptured", paid_online=True,
        max_cents=2500, currency="eur", patient_ref="P-1", patient_email="p@example.org", account_id="acct_TYPED123",
        checkout_session_id="cs_test_typed", payment_intent_id="pi_typed", authorised_cents=2500,
        capture_before=1768400000, link_expires_at=1768000000, note="planned",
    )
    ledger.update_consultation(HELD, state="succeeded", captured_cents=2000, fee_cents=55, net_cents=1945,
                               charge_id="ch_typed", stripe_synced_at=datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc))
    ledger.insert_consultation(OFFLINE, rpps=RPPS, scheduled_at="2026-01-11T08:00:00Z", state="no_online_payment")
    ledger.append_audit("capture", outcome="ok", target=HELD, detail="2000", stripe_request_id="req_typed")
    return ledger


def test_every_read_returns_typed_frozen_records(filled):
    ledger = filled
    held = ledger.get_consultation(HELD)
    assert isinstance(held, Consultation)
    _assert_typed(held)
    assert (held.paid_online, held.closed_on_purpose, held.captured_cents, held.net_cents) == (True, False, 2000, 1945)
    assert (held.scheduled_at, held.capture_before) == ("2026-01-10T08:30:00Z", 1768400000)  # ISO UTC text, unix int
    with pytest.raises(dataclasses.FrozenInstanceError):
        held.state = "canceled"  # type: ignore[misc]  # what the test checks: records are read-only
    offline = ledger.get_consultation(OFFLINE)
    _assert_typed(offline)
    assert (offline.paid_online, offline.max_cents, offline.fee_cents, offline.currency) == (False, None, None, "eur")

    for found in (
        ledger.find_by_payment_intent("pi_typed"), ledger.find_by_checkout_session("cs_test_typed"),
        *ledger.list_consultations(), *ledger.iter_consultations(), *ledger.non_final(),
    ):
        assert isinstance(found, Consultation)
        _assert_typed(found)
    assert ledger.list_consultations(newest_first=True) == [ledger.get_consultation(OFFLINE), held]

    practitioner = ledger.get_practitioner(RPPS)
    assert isinstance(practitioner, Practitioner)
    _assert_typed(practitioner)
    assert (practitioner.livemode, practitioner.default_max_cents, practitioner.linked_at) == (
        False, 2500, "2026-01-05T08:00:00Z")
    assert ledger.list_practitioners() == [practitioner] and ledger.find_practitioner_by_account("acct_TYPED123") == practitioner

    history = ledger.history(HELD)
    assert all(isinstance(line, HistoryEntry) for line in history)
    assert [(line.state, line.note) for line in history] == [("uncaptured", "planned"), ("succeeded", None)]
    for line in history:
        _assert_typed(line)

    [entry] = ledger.list_audit(5)
    assert isinstance(entry, AuditEntry)
    _assert_typed(entry)
    assert (entry.command, entry.target, entry.outcome, entry.stripe_request_id) == ("capture", HELD, "ok", "req_typed")


def test_writes_return_the_record_as_written(ledger):
    practitioner = ledger.upsert_practitioner(RPPS, account_id="acct_TYPED123", link_method="attached")
    assert isinstance(practitioner, Practitioner) and practitioner.account_id == "acct_TYPED123"
    assert isinstance(ledger.set_default_max(RPPS, 3000), Practitioner)
    assert ledger.set_practitioner_lang(RPPS, "en").lang == "en"
    inserted = ledger.insert_consultation(OFFLINE, rpps=RPPS, scheduled_at="2026-01-11T08:00:00Z", state="no_online_payment")
    assert isinstance(inserted, Consultation) and inserted == ledger.get_consultation(OFFLINE)
    updated = ledger.update_consultation(OFFLINE, state="canceled")
    assert updated.state == "canceled" and updated.created_at == inserted.created_at
    assert ledger.unlink_account(RPPS).account_id is None


def test_totals_are_typed_and_summed_per_state(filled):
    totals = filled.totals()
    assert isinstance(totals, Totals)
    assert totals.count == 2 and totals.sum("captured_cents") == 2000 and totals.sum("net_cents") == 1945
    assert list(totals.by_state) == ["no_online_payment", "succeeded"]
    for part in (totals, *totals.by_state.values()):
        _assert_typed(part)
    assert totals.by_state["succeeded"].count == 1 and totals.by_state["no_online_payment"].fee_cents == 0
    assert filled.totals(rpps=make_test_rpps(8)) == Totals(0, 0, 0, 0, 0, 0)


def test_the_totals_sum_the_summed_fields():
    sums = [field.name for field in dataclasses.fields(Totals) if field.name not in ("count", "by_state")]
    assert sums == [field.name for field in records.SUMMED_FIELDS]


def test_the_field_tables_match_the_schema_and_the_records(ledger):
    for table, fields, record in (
        ("consultations", records.CONSULTATION_FIELDS, Consultation),
        ("practitioners", records.PRACTITIONER_FIELDS, Practitioner),
    ):
        assert set(ledger.copy_columns(table)) == {field.name for field in fields}
        assert [field.name for field in dataclasses.fields(record)] == [field.name for field in fields]
    assert [field.name for field in dataclasses.fields(AuditEntry)] == list(records.AUDIT_FIELDS)
    assert set(records.AUDIT_FIELDS) == set(ledger.copy_columns("audit_log"))


def test_the_machine_keys_and_the_detail_order_stay_as_scripts_know_them():
    listing = ("id", "rpps", "scheduled_at", "state", "paid_online", "currency", "max_cents", "authorised_cents",
               "captured_cents", "refunded_cents", "fee_cents", "net_cents", "capture_before", "checkout_session_id",
               "payment_intent_id", "patient_ref", "updated_at")
    assert records.machine_names() == listing
    with_email = records.machine_names(show_email=True)
    assert with_email == (*listing[:16], "patient_email", "updated_at")
    assert records.machine_names(document=True) == (
        *listing, "account_id", "charge_id", "link_expires_at", "created_at", "stripe_synced_at")
    assert [field.name for field in records.DETAIL_FIELDS] == [
        "id", "rpps", "account_id", "scheduled_at", "state", "paid_online", "max_cents", "authorised_cents",
        "captured_cents", "refunded_cents", "fee_cents", "net_cents", "capture_before", "link_expires_at",
        "patient_ref", "patient_email", "checkout_session_id", "payment_intent_id", "charge_id", "created_at",
        "updated_at", "stripe_synced_at",
    ]
    assert [field.name for field in records.SUMMED_FIELDS] == [
        "authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents"]
    ranks = [field.detail for field in records.DETAIL_FIELDS]
    assert ranks == sorted(set(ranks))  # no two fields share a place


def test_the_field_table_drives_what_a_write_accepts(filled):
    ledger = filled
    before = ledger.get_consultation(HELD)
    for name in ("id", "rpps", "created_at", "updated_at"):  # not writable: the ledger's own
        with pytest.raises(TypeError):
            ledger.update_consultation(HELD, **{name: "x"})
    with pytest.raises(TypeError):
        ledger.update_consultation(HELD, captured_cents=20.0)  # cents: ints only
    with pytest.raises(TypeError):
        ledger.update_consultation(HELD, patient_ref=12)  # text: str only
    with pytest.raises(ValueError):
        ledger.update_consultation(HELD, refunded_cents=-1)  # cents: not negative...
    assert ledger.update_consultation(HELD, net_cents=-55).net_cents == -55  # ...but Stripe's net may be
    with pytest.raises(ValueError):
        ledger.update_consultation(HELD, stripe_synced_at="2026-01-10T09:00:00")  # a time without its offset
    with pytest.raises(ValueError):
        ledger.update_consultation(HELD, state="paid")  # a state of statuses.CODES
    with pytest.raises(BadInput) as refused:
        ledger.update_consultation(HELD, patient_ref="4242 4242 4242 4242")  # free text: no card number
    assert refused.value.key == "ledger.card_number_refused"
    assert ledger.update_consultation(HELD, paid_online=1).paid_online is True  # flags come back as bools
    after = ledger.get_consultation(HELD)
    assert dataclasses.replace(after, net_cents=before.net_cents, updated_at=before.updated_at) == before


def test_every_shown_field_has_its_label_in_both_languages():
    from sarapay import i18n
    from sarapay.render import cells  # noqa: F401  registers the field and column labels

    catalog = i18n.catalog()
    keys = [field.label_key for field in records.DETAIL_FIELDS]
    keys += [field.column_key for field in records.CONSULTATION_FIELDS if field.column_key is not None]
    for key in keys:
        assert key in catalog, key
        assert catalog[key]["fr"] and catalog[key]["en"], key
