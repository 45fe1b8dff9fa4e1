"""Every refusal of the domain modules is one sentence in French and its English twin, naming the value."""

from __future__ import annotations

import pytest

from sarapay import fees, i18n, ids, money, rpps, statuses, timefmt
from sarapay.errors import BadInput

CASES = [
    (money.parse_amount, "abc", "money.invalid"),
    (money.parse_amount, "", "money.empty"),
    (money.parse_amount, "-3", "money.negative"),
    (money.parse_amount, "25,555", "money.too_precise"),
    (money.parse_amount, "1000000", "money.too_large"),
    (timefmt.parse_duration, "soon", "duration.invalid"),
    (timefmt.parse_when, "bientôt", "when.invalid"),
    (timefmt.parse_when, "01/12/2026", "when.no_time"),
    (timefmt.parse_when, "31/02/2026 10:00", "when.impossible"),
    (timefmt.parse_when, "29/03/2026 02:30", "when.skipped"),
    (timefmt.parse_when, "25/10/2026 02:30", "when.ambiguous"),
    (timefmt.parse_day, "hier", "day.invalid"),
    (rpps.normalize_rpps, "123", "rpps.format"),
    (rpps.normalize_rpps, "789310596", "rpps.adeli"),
    (rpps.normalize_rpps, "10001234567", "rpps.key"),
    (statuses.parse_state, "payé", "status.unknown"),
    (fees.parse_rate, "-1", "fees.rate_invalid"),
    (ids.normalize_consultation_id, "TC-0", "consultation.invalid_id"),
    (ids.validate_account_id, "cus_123456", "account.invalid_id"),
]

OWN_PREFIXES = ("money.", "duration.", "when.", "day.", "rpps.", "status.", "fees.", "consultation.", "account.")


@pytest.mark.parametrize("func, value, key", CASES, ids=[c[2] for c in CASES])
def test_refusal_in_both_languages(func, value, key, lang):
    with pytest.raises(BadInput) as caught:
        func(value)
    error = caught.value
    assert error.key == key and error.exit_code == 2
    texts = {}
    for code in ("fr", "en"):
        lang(code)
        texts[code] = error.message
        assert texts[code].endswith(".")
        assert ". " not in texts[code]  # one sentence
        if value:
            assert value in texts[code]
        assert "{" not in texts[code]
    assert texts["fr"] != texts["en"]
    assert error.to_json()["error"]["code"] == key


def test_every_refusal_key_is_exercised():
    refusal_keys = {k for k in i18n.catalog() if k.startswith(OWN_PREFIXES) and k.split(".", 1)[1] not in statuses.CODES}
    assert refusal_keys == {key for _, _, key in CASES}
