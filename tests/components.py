"""Tests that need a program from outside Python (tmux, Chromium and its Playwright driver).

Where the component cannot start, such a test skips loudly: the reason starts with "MISSING COMPONENT" and
`-ra` lists it in the summary, with how to install it. Under SARAPAY_REQUIRE_COMPONENTS=1, which .ci/run
sets (CI installs every component first), the same test fails instead: a skip there would hide a broken
install and let the browser or terminal checks quietly stop running.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE = "SARAPAY_REQUIRE_COMPONENTS"
PREFIX = "MISSING COMPONENT"


def required() -> bool:
    return os.environ.get(REQUIRE, "").strip() not in ("", "0")


def missing_component(component: str, why: str) -> NoReturn:
    """Skip the running test (or fail it, when components are required) because `component` cannot start."""
    message = f"{PREFIX} {component}: {why}"
    if required():
        pytest.fail(f"{message} [{REQUIRE}=1: this run requires it]", pytrace=False)
    pytest.skip(message)
