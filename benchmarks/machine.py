"""The machine a benchmark ran on, said the same way by every script (imported from benchmarks/)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def describe(*extra: str) -> str:
    """'2 CPU (AMD EPYC ...), Python 3.11.7' followed by the script's own facts."""
    return ", ".join([f"{os.cpu_count()} CPU ({cpu_model()})", f"Python {platform.python_version()}", *extra])
