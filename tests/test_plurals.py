"""Counted phrases say « 1 consultation », « 2 consultations », never « consultation(s) »."""

from sarapay import i18n


def test_count_is_singular_for_0_and_1_in_french_and_1_in_english():
    i18n.register({"test.n.things": {"fr": "{n} chose ajoutée|{n} choses ajoutées", "en": "{n} thing added|{n} things added"}})
    assert [i18n.count("test.n.things", n) for n in (0, 1, 2)] == ["0 chose ajoutée", "1 chose ajoutée", "2 choses ajoutées"]
    i18n.set_lang("en")
    try:
        assert [i18n.count("test.n.things", n) for n in (0, 1, 2)] == ["0 things added", "1 thing added", "2 things added"]
    finally:
        i18n.set_lang(None)
