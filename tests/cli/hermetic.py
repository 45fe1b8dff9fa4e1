"""What a sarapay command may leave in the user's home, and what it may tell Stripe about the machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Sent by the stripe SDK when its telemetry is on: the previous request's id and duration.
TELEMETRY_HEADER = "x-stripe-client-telemetry"
# With telemetry on, X-Stripe-Client-User-Agent also carries a lasting id and the machine's platform string.
TELEMETRY_USER_AGENT_FIELDS = ("telemetry_id", "platform")


def own_dirs(home: Path) -> list[Path]:
    """sarapay's own folders under `home` when SARAPAY_HOME is not set (settings.py: platformdirs)."""
    from sarapay import settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        for name in ("SARAPAY_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            env.delenv(name, raising=False)
        return [settings.config_dir(), settings.data_dir()]


def leftovers(home: Path) -> list[str]:
    """Everything under `home` that is neither in sarapay's own folders nor on the way to them."""
    allowed = own_dirs(home)
    found = []
    for path in sorted(home.rglob("*")):
        inside = any(path == mine or mine in path.parents for mine in allowed)
        on_the_way = path.is_dir() and any(path in mine.parents for mine in allowed)
        if not (inside or on_the_way):
            found.append(str(path.relative_to(home)))
    return found


def telemetry_sent(requests: list[dict]) -> list[str]:
    """What the sandbox's request log shows of the SDK's telemetry, one line per request that carried some."""
    found = []
    for entry in requests:
        headers = entry.get("headers") or {}
        agent = json.loads(headers.get("x-stripe-client-user-agent") or "{}")
        sent = [name for name in TELEMETRY_USER_AGENT_FIELDS if name in agent]
        if TELEMETRY_HEADER in headers:
            sent.append(TELEMETRY_HEADER)
        if sent:
            found.append(f"{entry['method']} {entry['path']}: {', '.join(sent)}")
    return found
