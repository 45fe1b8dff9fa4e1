"""French-first messages with an English twin for every one.

Each module owns its messages and registers them at import: `register({"key": {"fr": ..., "en": ...}})`.
`t("key", **params)` formats the message in the current language (SARAPAY_LANG / --lang, French by
default); `t_in(lang, "key", **params)` in a given one (an email in its recipient's language). A message missing a language is a bug, caught when it is registered.
"""

from __future__ import annotations

import os

LANGS = ("fr", "en")
_CATALOG: dict[str, dict[str, str]] = {}
_lang: str | None = None


def register(messages: dict[str, dict[str, str]]) -> None:
    for key, texts in messages.items():
        absent = [lang for lang in LANGS if not texts.get(lang)]
        if absent:
            raise ValueError(f"message {key!r} lacks {', '.join(absent)}")
        if key in _CATALOG and _CATALOG[key] != texts:
            raise ValueError(f"message {key!r} registered twice with different texts")
        _CATALOG[key] = texts


def catalog() -> dict[str, dict[str, str]]:
    return dict(_CATALOG)


def set_lang(lang: str | None) -> None:
    global _lang
    if lang is not None and lang not in LANGS:
        raise ValueError(lang)
    _lang = lang


def get_lang() -> str:
    if _lang:
        return _lang
    env = os.environ.get("SARAPAY_LANG", "").lower()[:2]
    return env if env in LANGS else "fr"


def t(key: str, **params: object) -> str:
    texts = _CATALOG.get(key)
    if texts is None:
        raise KeyError(f"unknown message {key!r}")
    text = texts[get_lang()]
    return text.format(**params) if params else text


def t_in(lang: str, key: str, **params: object) -> str:
    """The message in `lang` ("fr" or "en"), whatever the current language is."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    texts = _CATALOG.get(key)
    if texts is None:
        raise KeyError(f"unknown message {key!r}")
    text = texts[lang]
    return text.format(**params) if params else text


def count(key: str, n: int, **params: object) -> str:
    """A counted phrase without « (s) »: the message is "singular|plural" with {n}. French puts 0 and 1 in the
    singular (« 0 consultation ajoutée »), English only 1."""
    return count_in(get_lang(), key, n, **params)


def count_in(lang: str, key: str, n: int, **params: object) -> str:
    """`count` in `lang`, whatever the current language is (an email in the practitioner's language)."""
    one, many = t_in(lang, key).split("|", 1)
    singular = n in (0, 1) if lang == "fr" else n == 1
    return (one if singular else many).format(n=n, **params)
