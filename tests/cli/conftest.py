"""Every command run by the CLI tests leaves HOME as it found it (outside sarapay's own folders) and tells
Stripe nothing of the SDK's telemetry: checked after each test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sarapay.sandbox_control import SandboxControl

from .hermetic import leftovers, telemetry_sent


@pytest.fixture(autouse=True)
def home_untouched_and_no_telemetry(request, hermetic_home):
    # The session's sandbox (the per-test `sandbox` fixture is gone by the time this one ends).
    url = request.getfixturevalue("sandbox_process") if "sandbox" in request.fixturenames else None
    yield
    home = Path(os.environ["HOME"])
    assert leftovers(home) == [], f"left in HOME by {request.node.name}"
    if url is not None:
        assert telemetry_sent(SandboxControl(url).requests()) == []
