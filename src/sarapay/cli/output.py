"""The output flags every listing command shares, and the rules of machine output.

Modelled on sqlite-utils' shared output-options decorator: one decorator gives a command the same
`--json` / `--csv` / `--nl` flags (or the subset it supports) and hands it a single `output` value.

Machine output rules (docs/architecture.md, "Rules every change keeps"), applied by the services that build the rows and checked here:
- language-independent: the same keys and values whatever --lang says;
- stable keys, in a fixed order (the `fields` each command declares);
- money as integer cents (`*_cents`) next to an ISO 4217 `currency` in lower case (`eur`), never text;
- times as ISO 8601 UTC (`2026-01-05T13:07:00Z`), never Paris time;
- rows streamed one at a time (JSON as a streamed array, NDJSON, CSV with a header, comma-separated).

`--excel` is the exception, for people rather than programs: the same rows as a French spreadsheet reads
them (render/machine.py, emit_excel: `;`, UTF-8 with BOM, `25,00`, `05/01/2026 14:07` Paris time, French labels).
"""

from __future__ import annotations

import functools
import inspect
from enum import Enum
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import typer

from sarapay import i18n
from sarapay.render import machine
from sarapay.errors import BadInput

i18n.register(
    {
        "output.one_format": {
            "fr": "Choisissez un seul format de sortie parmi {flags}.",
            "en": "Choose only one output format among {flags}.",
        },
    }
)


class Output(str, Enum):
    HUMAN = "human"
    JSON = "json"
    CSV = "csv"
    NL = "nl"
    EXCEL = "excel"

    @property
    def machine(self) -> bool:
        return self is not Output.HUMAN


_FLAGS = {
    Output.JSON: ("--json", "Sortie JSON (clés stables, montants en centimes, heures ISO 8601 UTC)."),
    Output.CSV: ("--csv", "Sortie CSV (virgule, en-tête, montants en centimes, heures ISO 8601 UTC)."),
    Output.NL: ("--nl", "Sortie NDJSON : un objet JSON par ligne (clés stables, centimes, ISO 8601 UTC)."),
    Output.EXCEL: (
        "--excel",
        "Tableur français (Excel) : point-virgule, UTF-8 avec BOM, montants 25,00, dates jj/mm/aaaa HH:MM (Paris).",
    ),
}
_PARAM = "_output_{}"
# Standard CSV opens as one column in a French Excel: where --excel exists, --csv's help says so.
_CSV_WITH_EXCEL = (
    "Sortie CSV standard (virgule, en-tête, montants en centimes, heures ISO 8601 UTC) ; pour un Excel "
    "français, préférez --excel."
)


def output_flags(*formats: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Adds the chosen output flags (default: json, csv, nl; `excel` on request) to a Typer command.

    The command declares a keyword parameter `output: Output` (without a Typer default): it receives
    Output.HUMAN, or the one machine format asked for. Two formats at once is bad input (exit 2).

        @app.command()
        @output_flags()
        def status(..., output: Output = Output.HUMAN): ...
    """
    chosen = [Output(name) for name in (formats or ("json", "csv", "nl"))]
    if not chosen or Output.HUMAN in chosen:
        raise ValueError("output_flags takes machine formats: json, csv, nl")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func, eval_str=True)
        if "output" not in signature.parameters:
            raise TypeError(f"{func.__name__} needs an `output` parameter to use output_flags")
        kept = [p for name, p in signature.parameters.items() if name != "output"]
        added = [
            inspect.Parameter(
                _PARAM.format(fmt.value),
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    False, _FLAGS[fmt][0],
                    help=_CSV_WITH_EXCEL if fmt is Output.CSV and Output.EXCEL in chosen else _FLAGS[fmt][1],
                ),
                annotation=bool,
            )
            for fmt in chosen
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            asked = [fmt for fmt in chosen if kwargs.pop(_PARAM.format(fmt.value), False)]
            if len(asked) > 1:
                raise BadInput("output.one_format", flags=", ".join(_FLAGS[fmt][0] for fmt in chosen))
            return func(*args, output=asked[0] if asked else Output.HUMAN, **kwargs)

        # Keyword-only parameters must come after the others; Typer reads this signature (inspect honours
        # __signature__, which functions do not declare: hence the ignore).
        positional = [p for p in kept if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in kept if p.kind is inspect.Parameter.KEYWORD_ONLY]
        wrapper.__signature__ = signature.replace(parameters=[*positional, *keyword, *added])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{p.name: p.annotation for p in (*positional, *keyword) if p.annotation is not inspect.Parameter.empty},
            **{p.name: bool for p in added},
        }
        del wrapper.__wrapped__  # Typer must see the new signature, not the original one
        return wrapper

    return decorate


def emit_rows(
    output: Output, rows: Iterable[dict[str, Any]], fields: Sequence[str],
    labels: dict[str, Callable[[Any, dict[str, Any]], str]] | None = None,
) -> int:
    """Streams machine rows (each holding exactly `fields`, in that order) in the chosen format.

    Returns the number of rows written. Nothing is held in memory beyond the current row. `labels` (codes
    into words) applies to --excel only: the other formats are for programs.
    """
    checked = _checked(rows, fields)
    if output is Output.JSON:
        return machine.emit_json_array(checked)
    if output is Output.NL:
        counted = _Counter(checked)
        machine.emit_ndjson(counted)
        return counted.count
    if output is Output.CSV:
        return machine.emit_csv(checked, fields)
    if output is Output.EXCEL:
        return machine.emit_excel(checked, fields, labels)
    raise ValueError(f"not a machine format: {output}")


def emit_document(payload: Mapping[str, Any]) -> None:
    """One JSON object on stdout (a detail view, a summary)."""
    machine.emit_json(payload)


def _checked(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> Iterable[dict[str, Any]]:
    expected = list(fields)
    for row in rows:
        if list(row) != expected:  # a programming error: machine keys are a contract
            raise ValueError(f"machine row keys {list(row)} differ from {expected}")
        yield row


class _Counter:
    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self.count += 1
            yield row
