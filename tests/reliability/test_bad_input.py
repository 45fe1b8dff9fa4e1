"""Bad input across all commands, one table: every row gets the documented exit code, one message that
names the problem (a distinctive word of the value or of the rule), an unchanged ledger (every table, row
for row; the audit log aside, where a refused mutating command records its refusal), no mutating request
to the sandbox, and no traceback.

Placeholders in the arguments name the consultations and practitioners of a small world, built on demand
for each row: {A} a linked practitioner, {U} one registered but not linked, {B} a valid RPPS nobody
registered; {no_pay}, {incomplete}, {hold}, {done}, {canceled}, {expired} a consultation in that state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from sarapay.rpps import make_test_rpps
from tests.cli.payments_helpers import authorised, ledger, link_practitioner, plan_paid, posts
from tests.reliability.conftest import dump_tables

AT = "01/12/2099 10:30"
A_N, U_N, B_N = 51, 52, 53


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    needles: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


def case(id, args, code, *needles, env=None):
    return pytest.param(Case(id, list(args), code, needles, env or {}), id=id)


A, U, B = "{A}", "{U}", "{B}"
BAD_KEY_RPPS = make_test_rpps(A_N)[:-1] + str((int(make_test_rpps(A_N)[-1]) + 1) % 10)
LIVE_KEY = "sk_live_" + "9" * 24
CASES = [
    # --- amounts
    case("amount-letters", ["capture", "{hold}", "abc", "--yes"], 2, "abc"),
    case("amount-negative", ["capture", "{hold}", "-3", "--yes"], 2, "-3", "négatif"),
    case("amount-three-decimals", ["capture", "{hold}", "25,555", "--yes"], 2, "25,555"),
    case("amount-exponent", ["capture", "{hold}", "1e9", "--yes"], 2, "1e9"),
    case("amount-empty", ["capture", "{hold}", "", "--yes"], 2, "montant"),
    case("amount-huge", ["capture", "{hold}", "9" * 40, "--yes"], 2, "999"),
    case("amount-unicode-digits", ["capture", "{hold}", "٢٥", "--yes"], 2, "٢٥"),
    case("amount-above-hold", ["capture", "{hold}", "30", "--yes"], 2, "25,00"),
    case("amount-below-minimum", ["capture", "{hold}", "0,20", "--yes"], 2, "0,50"),
    case("refund-above-captured", ["refund", "{done}", "30", "--yes"], 2, "30,00", "25,00"),
    case("refund-zero", ["refund", "{done}", "0", "--yes"], 2, "0"),
    case("refund-letters", ["refund", "{done}", "tout", "--yes"], 2, "tout"),
    case("refund-negative", ["refund", "{done}", "-5", "--yes"], 2, "-5", "négatif"),
    case("set-max-letters", ["prefs", "set-max", A, "vingt"], 2, "vingt"),
    case("set-max-too-high", ["prefs", "set-max", A, "10000"], 2, "500,00"),
    case("set-max-negative", ["prefs", "set-max", A, "-3"], 2, "-3"),
    case("plan-max-above-practitioner", ["plan", A, "--at", AT, "--paid", "--max", "30"], 2, "25,00"),
    case("plan-max-junk", ["plan", A, "--at", AT, "--paid", "--max", "25.5.5"], 2, "25.5.5"),
    case("fees-junk", ["fees", "12 euros"], 2, "12 euros"),
    # --- dates and times
    case("date-31-february", ["plan", A, "--at", "31/02/2026 10:00"], 2, "31/02/2026"),
    case("date-word", ["plan", A, "--at", "tomorrow"], 2, "tomorrow"),
    case("time-25h", ["plan", A, "--at", "01/12/2099 25:00"], 2, "25:00"),
    case("date-empty", ["plan", A, "--at", ""], 2, "date"),
    case("date-in-the-past", ["plan", A, "--at", "01/01/2020 10:00", "--paid"], 2, "passé"),
    case("status-since-junk", ["status", "--since", "31/02/2026"], 2, "31/02/2026"),
    case("status-until-month-13", ["status", "--until", "2026-13-01"], 2, "2026-13-01"),
    case("reconcile-warn-within-junk", ["reconcile", "--warn-within", "48x"], 2, "48x"),
    # --- RPPS
    case("rpps-bad-key", ["plan", BAD_KEY_RPPS, "--at", AT], 2, "clé"),
    case("rpps-10-digits", ["plan", "1000000051", "--at", AT], 2, "1000000051"),
    case("rpps-letters", ["plan", "ABCDEFGHIJK", "--at", AT], 2, "ABCDEFGHIJK"),
    case("rpps-adeli", ["plan", "751234567", "--at", AT], 2, "ADELI"),
    case("rpps-unknown", ["plan", B, "--at", AT, "--paid"], 2, "sarapay link"),
    case("link-rpps-bad-key", ["link", BAD_KEY_RPPS, "--email", "dr@example.fr"], 2, "clé"),
    case("payouts-rpps-short", ["payouts", "123"], 2, "123"),
    case("status-practitioner-junk", ["status", "--practitioner", "12AB"], 2, "12AB"),
    # --- consultation ids
    case("consultation-unknown", ["capture", "TC-ZZZZZZ", "--yes"], 2, "TC-ZZZZZZ"),
    case("consultation-malformed", ["cancel", "12345", "--yes"], 2, "12345"),
    case("consultation-unicode", ["refund", "TC-ÉÉÉÉÉÉ", "--yes"], 2, "TC-ÉÉÉÉÉÉ"),
    case("consultation-empty", ["pay-link", ""], 2, "consultation"),
    case("consultation-huge", ["status", "TC-" + "X" * 5000], 2, "TC-XXX"),
    # --- account ids
    case("account-junk", ["link", B, "--account", "junk"], 2, "junk"),
    case("account-prefix-only", ["link", B, "--account", "acct_"], 2, "acct_"),
    case("account-unicode", ["link", B, "--account", "acct_ÆØÅ12345678"], 2, "acct_"),
    # --- option combinations
    case("code-without-state", ["link", B, "--code", "ac_1234567890"], 2, "--state"),
    case("new-with-account", ["link", B, "--new", "--account", "acct_1234567890"], 2, "--new", "--account"),
    case("max-without-paid", ["plan", A, "--at", AT, "--max", "20"], 2, "--paid"),
    case("csv-with-json", ["status", "--csv", "--json"], 2, "--json", "--csv"),
    case("schedule-junk", ["payouts", A, "--schedule", "fortnightly"], 2, "fortnightly"),
    case("log-count-zero", ["log", "-n", "0"], 2, "--count"),
    # --- a key of the wrong mode, or no key at all
    case("live-key-without-live", ["capture", "{hold}", "--yes"], 4, "--live", env={"STRIPE_API_KEY": LIVE_KEY}),
    case("live-flag-with-test-key", ["--live", "capture", "{hold}", "--yes"], 4, "--live", "test"),
    case("publishable-key", ["status", "{hold}", "--refresh"], 4, "pk_", env={"STRIPE_API_KEY": "pk_test_" + "1" * 24}),
    case("malformed-key", ["plan", A, "--at", AT, "--paid"], 4, "format", env={"STRIPE_API_KEY": "sk_test_short"}),
    # --- an unlinked practitioner
    case("plan-unlinked", ["plan", U, "--at", AT, "--paid"], 2, "sarapay link"),
    case("payouts-unlinked", ["payouts", U], 2, "sarapay link"),
    # --- a consultation in the wrong state
    case("capture-incomplete", ["capture", "{incomplete}", "--yes"], 2, "empreinte"),
    case("capture-twice", ["capture", "{done}", "--yes"], 2, "déjà capturée"),
    case("capture-expired", ["capture", "{expired}", "--yes"], 2, "expiré"),
    case("capture-no-online-payment", ["capture", "{no_pay}", "--yes"], 2, "sans paiement en ligne"),
    case("refund-uncaptured", ["refund", "{hold}", "--yes"], 2, "pas capturée"),
    case("refund-canceled", ["refund", "{canceled}", "--yes"], 2, "annulée"),
    case("cancel-succeeded", ["cancel", "{done}", "--yes"], 2, "refund"),
    case("pay-link-no-online-payment", ["pay-link", "{no_pay}"], 2, "sans paiement en ligne"),
    case("pay-link-authorised", ["pay-link", "{hold}"], 2, "{hold}"),
]


class World:
    """Practitioners and consultations, created when a row first names them."""

    def __init__(self, run, sandbox) -> None:
        self.run, self.sandbox = run, sandbox
        self.values: dict[str, str] = {}

    def _doctor(self) -> str:
        if "A" not in self.values:
            self.values["A"] = link_practitioner(self.sandbox, A_N)["rpps"]
        return self.values["A"]

    def _refreshed(self, cid: str, state: str) -> str:
        assert self.run("status", cid, "--refresh").exit_code == 0
        with ledger() as book:
            assert book.get_consultation(cid).state == state
        return cid

    def make(self, name: str) -> str:
        run, sandbox = self.run, self.sandbox
        if name == "A":
            return self._doctor()
        if name == "U":
            rpps = make_test_rpps(U_N)
            with ledger() as book:
                book.upsert_practitioner(rpps, name="Dr Sans Compte")
            return rpps
        if name == "B":
            return make_test_rpps(B_N)
        if name == "no_pay":
            result = run("plan", self._doctor(), "--at", AT)
            assert result.exit_code == 0, result.stderr
            return result.stdout.strip()
        if name == "incomplete":
            return plan_paid(run, self._doctor())["id"]
        if name == "hold":
            return self._refreshed(authorised(run, sandbox, self._doctor()), "uncaptured")
        if name == "done":
            cid = authorised(run, sandbox, self._doctor())
            assert run("capture", cid, "--yes").exit_code == 0
            return cid
        if name == "canceled":
            cid = authorised(run, sandbox, self._doctor())
            assert run("cancel", cid, "--yes").exit_code == 0
            return cid
        if name == "expired":
            cid = authorised(run, sandbox, self._doctor())
            sandbox.advance(8 * 86400)  # past the 7-day hold
            return self._refreshed(cid, "expired")
        raise KeyError(name)

    def fill(self, text: str) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            if name not in self.values:
                self.values[name] = self.make(name)
            return self.values[name]

        return re.sub(r"\{(\w+)\}", value, text)


def _plain(text: str) -> str:
    return " ".join(text.split()).lower()


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_with_one_clear_message_and_changes_nothing(run, sandbox, monkeypatch, bad):
    world = World(run, sandbox)
    args = [world.fill(a) for a in bad.args]
    needles = [world.fill(n) for n in bad.needles]
    for name, value in bad.env.items():
        monkeypatch.setenv(name, value)
    ledger().close()  # the ledger exists before: a refused command's audit row is its only trace
    before = dump_tables()
    log = sandbox.requests()
    since = log[-1]["seq"] if log else 0

    result = run(*args)

    assert result.exit_code == bad.code, (result.exit_code, result.stderr)
    message = _plain(result.stderr)
    assert "traceback" not in message and "error:" not in message[:6]
    for needle in needles:
        assert needle.lower() in message, (needle, result.stderr)
    assert result.stdout == ""
    assert dump_tables() == before
    assert posts(sandbox, since) == []


def test_the_table_has_at_least_forty_rows():
    assert len(CASES) >= 40
