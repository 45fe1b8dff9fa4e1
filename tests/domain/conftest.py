"""Domain tests: messages are checked in both languages; each test leaves the language as it found it."""

from __future__ import annotations

import pytest

from sarapay import i18n


@pytest.fixture
def lang():
    """Set the message language for one test: `lang("en")`."""
    yield i18n.set_lang
    i18n.set_lang(None)
