"""Machine output: --json, --nl, --csv and --excel, streamed row by row, language-independent keys,
integer cents and ISO 8601 UTC (--excel alone speaks French: it is for spreadsheets).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, Iterable

from sarapay import i18n
from sarapay.render import console


def emit_json(payload: Any) -> None:
    """One JSON document: indented for a person at a terminal, on ONE line into a pipe or a file (as gh does),
    so a cron job appending `--json` to a log writes one line per run (a JSON Lines file)."""
    indent = 2 if console.isatty(sys.stdout) else None
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=indent, sort_keys=False) + "\n")


def emit_ndjson(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def error_json(payload: dict[str, Any]) -> None:
    sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")


# --- machine output: streamed rows ------------------------------------------------------------------------


def emit_json_array(rows: Iterable[dict[str, Any]]) -> int:
    """A JSON array written one element at a time (valid JSON, never the whole list in memory)."""
    count = 0
    write = sys.stdout.write
    for row in rows:
        write(("[\n  " if count == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
        count += 1
    write("[]\n" if count == 0 else "\n]\n")
    return count


def emit_csv(rows: Iterable[dict[str, Any]], fields: Iterable[str]) -> int:
    """CSV for programs: comma, a header line, booleans as true/false, None as an empty cell."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(list(fields))
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row.values()])
        count += 1
    return count


def emit_excel(
    rows: Iterable[dict[str, Any]], fields: Iterable[str], labels: dict[str, Callable[[Any, dict[str, Any]], str]] | None = None
) -> int:
    """CSV for French spreadsheets (Excel, LibreOffice in French): UTF-8 with a BOM so Excel reads the
    accents, `;` since `,` is the decimal mark, CRLF, amounts `25,00` (no symbol, no grouping: a number to
    Excel), times `05/01/2026 14:07` in Paris time, states and yes/no as the French labels, French headers.
    `labels` turns other codes into words: `{key: label(value, row)}`. Streamed like emit_csv."""
    import csv

    from sarapay import money, statuses, timefmt
    from sarapay.render import cells  # noqa: F401  (registers the French field labels used as headers)

    fields = list(fields)

    labels = labels or {}

    def cell(key: str, value: Any, row: dict[str, Any]) -> Any:
        if value is None:
            return ""
        if key in labels:
            return labels[key](value, row)
        if isinstance(value, bool):
            return i18n.t("view.yes" if value else "view.no")
        if key.endswith("_cents") and isinstance(value, int):
            return money.format_cents_plain(value)
        if key == "state":
            return statuses.label(value)
        if key == "currency":
            return value.upper()
        if isinstance(value, str) and _ISO_UTC.fullmatch(value):
            from datetime import datetime

            return timefmt.format_when(datetime.fromisoformat(value.replace("Z", "+00:00")), lang="fr")
        return value

    def header(key: str) -> str:
        label = f"view.field.{key}"
        return i18n.t(label) if label in i18n.catalog() else key

    sys.stdout.write("\ufeff")
    writer = csv.writer(sys.stdout, delimiter=";", lineterminator="\r\n")
    writer.writerow([header(key) for key in fields])
    count = 0
    for row in rows:
        writer.writerow([cell(key, value, row) for key, value in row.items()])
        count += 1
    return count


_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z")
