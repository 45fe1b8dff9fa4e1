"""`--state FILE`: the store as one JSON document, written atomically after every change."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .framework import Store

# misc tables that describe this process, not Stripe's state
TRANSIENT = ("request_log", "request_log_seq", "faults", "webhook_deliveries")


def dump(store: Store) -> dict[str, Any]:
    with store.lock:
        return {
            "version": 1,
            "clock_offset": store.clock.offset,
            "seq": store.seq,
            "platforms": store.platforms,
            "accounts": store.accounts,
            "connections": store.connections,
            "objects": store.objects,
            "misc": {k: v for k, v in store.misc.items() if k not in TRANSIENT},
        }


def save(store: Store, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    with store.lock:
        text = json.dumps(dump(store), separators=(",", ":"))
    # Write next to the target then rename: a crash never leaves a half-written state file.
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(store: Store, path: str | os.PathLike[str]) -> bool:
    """Fill `store` from the file if it exists. Returns whether something was loaded."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    data = json.loads(path.read_text())
    with store.lock:
        store.clock.offset = int(data.get("clock_offset", 0))
        store.seq = int(data.get("seq", 0))
        store.platforms = data.get("platforms", {})
        store.accounts = data.get("accounts", {})
        store.connections = data.get("connections", {})
        store.objects = data.get("objects", {})
        store.misc = data.get("misc", {})
    return True


def reset(store: Store) -> None:
    """Forget everything and put the clock back to real time."""
    with store.lock:
        store.clock.offset = 0
        store.seq = 0
        store.platforms = {}
        store.accounts = {}
        store.connections = {}
        store.objects = {}
        store.misc = {}
