"""Huge human listings (`status --limit 0`, `log -n 100000`) printed as the rows are read, in flat memory.

A rich Table is built whole before it is printed (every cell of every row, then measured): 100 000
consultations cost 94 s and 941 MiB that way. So a listing first reads CHUNK + 1 rows: when it has no more,
it is the normal case and keeps the usual table (render/consultations.py, render/audit.py: fitted to the terminal, paged). When it has
more, it is printed as a plain table whose column widths are fixed from the header and the first CHUNK
rows (a later, wider cell pushes its line rather than being cut), CHUNK lines at a time, while the next
rows are read from the ledger's cursor. Every column is kept (a terminal wraps long lines; a file keeps
them whole); the audit log's free-text detail comes last so that it never shifts the other columns.
"""

from __future__ import annotations

import sys
from itertools import chain, islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, TypeVar

from sarapay import i18n

if TYPE_CHECKING:
    from sarapay.records import AuditEntry, Consultation, Totals

T = TypeVar("T")

CHUNK = 500


def split_first(rows: Iterable[T], count: int | None = None) -> tuple[list[T], Iterator[T] | None]:
    """(the first rows, the rest): the rest is None when there were no more than `count` (CHUNK) rows."""
    count = CHUNK if count is None else count
    stream = iter(rows)
    first = list(islice(stream, count + 1))
    if len(first) <= count:
        return first, None
    return first, stream


def _lines(
    columns: Sequence[str], rows: Iterable[list[str]], first: list[list[str]], right: frozenset[int]
) -> Iterator[str]:
    headers = [i18n.t(key) for key in columns]
    widths = [max([len(header), *(len(row[i]) for row in first)]) for i, header in enumerate(headers)]
    last = len(columns) - 1

    def line(cells: Sequence[str]) -> str:
        out = [
            cell if i == last and i not in right else (cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]))
            for i, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    yield line(headers)
    yield "  ".join("─" * width for width in widths)
    for cells in chain(first, rows):
        yield line(cells)


def print_table(
    columns: Sequence[str], first: list[T], rest: Iterator[T], cells: Callable[[T], list[str]], *,
    right: Iterable[str] = (),
) -> int:
    """Prints the rows (`first`, then `rest` as it is read) as a fixed-width table on stdout; returns how many."""
    count = len(first)

    def counted() -> Iterator[list[str]]:
        nonlocal count
        for row in rest:
            count += 1
            yield cells(row)

    wanted = frozenset(i for i, key in enumerate(columns) if key in set(right))
    write, batch = sys.stdout.write, []
    for text in _lines(columns, counted(), [cells(row) for row in first], wanted):
        batch.append(text)
        if len(batch) >= CHUNK:
            write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        write("\n".join(batch) + "\n")
    sys.stdout.flush()
    return count


def status_stream(
    first: list[Consultation], rest: Iterator[Consultation], totals: Totals, total_notice: Callable[[int], str | None]
) -> int:
    """`status` with more rows than one chunk: the payments table streamed, then the totals per state, then
    the notice (« N consultations affichées sur M ») once N is known."""
    from sarapay.render import cells, consultations, console

    narrow = cells.narrow()
    shown = print_table(consultations.STATUS_COLUMNS, first, rest,
                        lambda row: consultations.status_cells(row, narrow=narrow), right=consultations.MONEY_COLUMNS)
    consultations.totals_table(totals)
    notice = total_notice(shown)
    if notice:
        console.message(notice)
    return shown


def audit_stream(first: list[AuditEntry], rest: Iterator[AuditEntry]) -> int:
    """`log` with more entries than one chunk: every column, the detail last."""
    from sarapay.render import audit

    order = [i for i, key in enumerate(audit.AUDIT_COLUMNS) if key != "view.col.detail"]
    order.append(audit.AUDIT_COLUMNS.index("view.col.detail"))

    def cells(entry: AuditEntry) -> list[str]:
        row = audit.audit_cells(entry)
        return [row[i] for i in order]

    return print_table([audit.AUDIT_COLUMNS[i] for i in order], first, rest, cells)
