"""Everything that reaches the terminal: data on stdout, messages and progress on stderr.

Human output is French by default (labels from statuses.py, amounts from money.py); machine output
(--json, --csv, --nl) is language-independent: stable keys, integer cents, ISO 8601 UTC.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable

_consoles: dict[str, Any] = {}


def _console(stream: str):
    from rich.console import Console

    # Consoles are created lazily (rich is imported only when something is printed) and rebuilt when
    # the underlying stream changes, which CliRunner does for each invocation.
    target = sys.stdout if stream == "out" else sys.stderr
    cached = _consoles.get(stream)
    if cached is None or cached.file is not target:
        no_color = bool(os.environ.get("NO_COLOR")) or os.environ.get("CLICOLOR") == "0"
        cached = Console(file=target, no_color=no_color, highlight=False, soft_wrap=False)
        _consoles[stream] = cached
    return cached


def out():
    """The stdout console: data only."""
    return _console("out")


def err():
    """The stderr console: messages, banners, progress."""
    return _console("err")


def message(text: str, style: str | None = None) -> None:
    # soft_wrap: a message is one logical line; the terminal wraps it, rich must not cut it in pieces.
    err().print(text, style=style, markup=False, soft_wrap=True)


def warn(text: str) -> None:
    err().print(text, style="yellow", markup=False, soft_wrap=True)


def data_line(text: str) -> None:
    """A plain line of data on stdout (no markup, no wrapping)."""
    sys.stdout.write(text + "\n")


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def emit_ndjson(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def error_json(payload: dict[str, Any]) -> None:
    sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")
