"""Everything that reaches the terminal: data on stdout, messages and progress on stderr.

Human output is French by default (labels from statuses.py, amounts from money.py); machine output
(--json, --csv, --nl) is language-independent: stable keys, integer cents, ISO 8601 UTC.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Callable, Iterable

from sarapay import i18n

_consoles: dict[str, Any] = {}
COLOR_MODES = ("auto", "always", "never")
_color_mode = "auto"


def set_color(mode: str | None) -> None:
    """--color auto|always|never (None: auto). The environment decides only under auto."""
    global _color_mode
    if mode is not None and mode not in COLOR_MODES:
        raise ValueError(mode)
    _color_mode = mode or "auto"
    _consoles.clear()


def color_enabled(stream: Any) -> bool:
    """gh's rules: --color wins; then NO_COLOR (any value) and CLICOLOR=0 turn colour off, CLICOLOR_FORCE
    (not 0) turns it on; otherwise colour only on a terminal."""
    if _color_mode != "auto":
        return _color_mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("CLICOLOR") == "0":
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") != "0":
        return True
    return _isatty(stream)


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _console(stream: str):
    from rich.console import Console

    # Consoles are created lazily (rich is imported only when something is printed) and rebuilt when
    # the underlying stream changes, which CliRunner does for each invocation.
    target = sys.stdout if stream == "out" else sys.stderr
    cached = _consoles.get(stream)
    if cached is None or cached.file is not target:
        color = color_enabled(target)
        cached = Console(
            file=target, no_color=not color, color_system="auto" if color else None, highlight=False, soft_wrap=False,
            # Forced colour into a pipe: rich only emits colour codes to what it believes is a terminal.
            force_terminal=True if (color and not _isatty(target)) else None,
        )
        _consoles[stream] = cached
    return cached


def out():
    """The stdout console: data only."""
    return _console("out")


def err():
    """The stderr console: messages, banners, progress."""
    return _console("err")


def message(text: str, style: str | None = None) -> None:
    if not color_enabled(sys.stderr):  # plain text needs no rich (start-up time: `status` on an empty ledger)
        sys.stderr.write(text + "\n")
        return
    # soft_wrap: a message is one logical line; the terminal wraps it, rich must not cut it in pieces.
    err().print(text, style=style, markup=False, soft_wrap=True)


def warn(text: str) -> None:
    message(text, style="yellow")


def data_line(text: str) -> None:
    """A plain line of data on stdout (no markup, no wrapping)."""
    sys.stdout.write(text + "\n")


def emit_json(payload: Any) -> None:
    """One JSON document: indented for a person at a terminal, on ONE line into a pipe or a file (as gh does),
    so a cron job appending `--json` to a log writes one line per run (a JSON Lines file)."""
    indent = 2 if _isatty(sys.stdout) else None
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


i18n.register({"view.field.currency": {"fr": "Devise", "en": "Currency"}})


def emit_excel(
    rows: Iterable[dict[str, Any]], fields: Iterable[str], labels: dict[str, Callable[[Any, dict[str, Any]], str]] | None = None
) -> int:
    """CSV for French spreadsheets (Excel, LibreOffice in French): UTF-8 with a BOM so Excel reads the
    accents, `;` since `,` is the decimal mark, CRLF, amounts `25,00` (no symbol, no grouping: a number to
    Excel), times `05/01/2026 14:07` in Paris time, states and yes/no as the French labels, French headers.
    `labels` turns other codes into words: `{key: label(value, row)}`. Streamed like emit_csv."""
    import csv

    from sarapay import money, statuses, timefmt

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


# --- human views: tables ------------------------------------------------------------------------------------
# Labels live here, next to the tables that show them; codes and amounts come from the domain modules.

i18n.register(
    {
        "view.col.consultation": {"fr": "Consultation", "en": "Consultation"},
        "view.col.when": {"fr": "Date (Paris)", "en": "Date (Paris)"},
        "view.col.rpps": {"fr": "RPPS", "en": "RPPS"},
        "view.col.state": {"fr": "État", "en": "State"},
        "view.col.max": {"fr": "Maximum", "en": "Maximum"},
        "view.col.authorised": {"fr": "Autorisé", "en": "Authorised"},
        "view.col.captured": {"fr": "Capturé", "en": "Captured"},
        "view.col.refunded": {"fr": "Remboursé", "en": "Refunded"},
        "view.col.fee": {"fr": "Frais", "en": "Fee"},
        "view.col.net": {"fr": "Net", "en": "Net"},
        "view.col.deadline": {"fr": "Capturer avant", "en": "Capture before"},
        "view.col.count": {"fr": "Nombre", "en": "Count"},
        "view.totals_title": {"fr": "Totaux par état", "en": "Totals per state"},
        "view.total": {"fr": "Total", "en": "Total"},
        "view.none": {"fr": "—", "en": "—"},
        "view.yes": {"fr": "oui", "en": "yes"},
        "view.no": {"fr": "non", "en": "no"},
        "view.field.id": {"fr": "Consultation", "en": "Consultation"},
        "view.field.rpps": {"fr": "Praticien (RPPS)", "en": "Practitioner (RPPS)"},
        "view.field.account_id": {"fr": "Compte Stripe", "en": "Stripe account"},
        "view.field.scheduled_at": {"fr": "Date (Paris)", "en": "Date (Paris)"},
        "view.field.state": {"fr": "État", "en": "State"},
        "view.field.paid_online": {"fr": "Paiement en ligne", "en": "Online payment"},
        "view.field.max_cents": {"fr": "Montant maximum", "en": "Maximum amount"},
        "view.field.authorised_cents": {"fr": "Autorisé (empreinte)", "en": "Authorised (hold)"},
        "view.field.captured_cents": {"fr": "Capturé", "en": "Captured"},
        "view.field.refunded_cents": {"fr": "Remboursé", "en": "Refunded"},
        "view.field.fee_cents": {"fr": "Frais Stripe", "en": "Stripe fee"},
        "view.field.net_cents": {"fr": "Net pour le praticien", "en": "Net to the practitioner"},
        "view.field.capture_before": {"fr": "Capturer avant", "en": "Capture before"},
        "view.field.link_expires_at": {"fr": "Lien de paiement valable jusqu'au", "en": "Payment link valid until"},
        "view.field.patient_ref": {"fr": "Référence patient", "en": "Patient reference"},
        "view.field.patient_email": {"fr": "E-mail du patient", "en": "Patient email"},
        "view.field.checkout_session_id": {"fr": "Session Checkout", "en": "Checkout Session"},
        "view.field.payment_intent_id": {"fr": "PaymentIntent", "en": "PaymentIntent"},
        "view.field.charge_id": {"fr": "Paiement (charge)", "en": "Charge"},
        "view.field.created_at": {"fr": "Créée le", "en": "Created"},
        "view.field.updated_at": {"fr": "Mise à jour le", "en": "Updated"},
        "view.field.stripe_synced_at": {"fr": "Synchronisée avec Stripe le", "en": "Synced with Stripe"},
        "view.history_title": {"fr": "Historique", "en": "History"},
        "view.col.note": {"fr": "Note", "en": "Note"},
        "view.col.at": {"fr": "Quand (Paris)", "en": "When (Paris)"},
        "view.col.actor": {"fr": "Qui", "en": "Who"},
        "view.col.command": {"fr": "Commande", "en": "Command"},
        "view.col.target": {"fr": "Cible", "en": "Target"},
        "view.col.outcome": {"fr": "Résultat", "en": "Outcome"},
        "view.col.detail": {"fr": "Détail", "en": "Detail"},
        "view.col.request_id": {"fr": "Requête Stripe", "en": "Stripe request"},
        "view.outcome.ok": {"fr": "OK", "en": "OK"},
        "view.outcome.refused": {"fr": "Refusé", "en": "Refused"},
        "view.outcome.error": {"fr": "Erreur", "en": "Error"},
        "view.outcome.dry_run": {"fr": "Simulation", "en": "Dry run"},
        "view.outcome.cancelled": {"fr": "Abandonné", "en": "Cancelled"},
        "view.col.amount": {"fr": "Montant", "en": "Amount"},
        "view.col.payout_status": {"fr": "État", "en": "Status"},
        "view.col.arrival": {"fr": "Arrivée (Paris)", "en": "Arrival (Paris)"},
        "view.col.payout_id": {"fr": "Versement", "en": "Payout"},
        "view.payout.paid": {"fr": "Payé", "en": "Paid"},
        "view.payout.pending": {"fr": "En attente", "en": "Pending"},
        "view.payout.in_transit": {"fr": "En transit", "en": "In transit"},
        "view.payout.canceled": {"fr": "Annulé", "en": "Canceled"},
        "view.payout.failed": {"fr": "Échec", "en": "Failed"},
        "view.balance.available": {"fr": "Solde disponible", "en": "Available balance"},
        "view.balance.pending": {"fr": "Solde en attente", "en": "Pending balance"},
        "view.balance.account": {"fr": "Compte Stripe", "en": "Stripe account"},
        "view.balance.schedule": {"fr": "Calendrier des versements", "en": "Payout schedule"},
        "view.payouts_title": {"fr": "Versements récents", "en": "Recent payouts"},
        "view.no_payouts": {"fr": "Aucun versement pour l'instant.", "en": "No payout yet."},
        "view.schedule.daily": {"fr": "Quotidien", "en": "Daily"},
        "view.schedule.weekly": {"fr": "Hebdomadaire, le {day}", "en": "Weekly, on {day}"},
        "view.schedule.monthly": {"fr": "Mensuel, le {day} du mois", "en": "Monthly, on day {day}"},
        "view.schedule.manual": {"fr": "Manuel (à la demande)", "en": "Manual (on request)"},
        "view.schedule.delay": {"fr": "{text} ; fonds disponibles après {days} jours", "en": "{text}; funds available after {days} days"},
        "view.schedule.read_only": {
            "fr": "{text} (modifiable seulement par le praticien, dans son tableau de bord Stripe)",
            "en": "{text} (only the practitioner can change it, in their Stripe dashboard)",
        },
        "view.weekday.monday": {"fr": "lundi", "en": "Monday"},
        "view.weekday.tuesday": {"fr": "mardi", "en": "Tuesday"},
        "view.weekday.wednesday": {"fr": "mercredi", "en": "Wednesday"},
        "view.weekday.thursday": {"fr": "jeudi", "en": "Thursday"},
        "view.weekday.friday": {"fr": "vendredi", "en": "Friday"},
        "view.weekday.saturday": {"fr": "samedi", "en": "Saturday"},
        "view.weekday.sunday": {"fr": "dimanche", "en": "Sunday"},
        "view.fees.amount": {"fr": "Montant capturé", "en": "Captured amount"},
        "view.fees.fee": {"fr": "Frais Stripe estimés ({rule})", "en": "Estimated Stripe fee ({rule})"},
        "view.fees.net": {"fr": "Net pour le praticien", "en": "Net to the practitioner"},
    }
)


def _print_data(renderable: Any) -> None:
    """A table on stdout; piped or captured output is never wrapped at 80 columns."""
    console = out()
    if _isatty(console.file):
        with console.capture() as captured:
            console.print(renderable)
        text = captured.get()
        if text.count("\n") < console.height or not _page(text):
            console.file.write(text)
            console.file.flush()
        return
    # Console.print(width=...) is capped at the console's own width (80 when piped): widen the console itself.
    from rich.console import Console

    wide = Console(
        file=console.file, no_color=console.no_color, color_system=console.color_system, force_terminal=console.is_terminal,
        highlight=False, soft_wrap=False, width=max(console.width, 240),
    )
    wide.print(renderable)


def _page(text: str) -> bool:
    """Shows `text` through the pager (gh's rule: only on a terminal; SARAPAY_PAGER, then PAGER, then
    `less`; empty or `cat` means none). LESS defaults to FRX: quit if one screen, keep colours, leave the
    text on screen. Returns False when no pager ran, so the caller prints the text itself."""
    import shlex
    import shutil
    import subprocess

    pager = os.environ.get("SARAPAY_PAGER", os.environ.get("PAGER", "less")).strip()
    words = shlex.split(pager) if pager else []
    if not words or words[0] == "cat" or shutil.which(words[0]) is None or not _isatty(sys.stdin):
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    sys.stdout.flush()
    try:
        subprocess.run(words, input=text, text=True, env=env, check=False)
    except OSError:
        return False
    return True


def _when(value: Any) -> str:
    from sarapay import timefmt

    if value is None or value == "":
        return i18n.t("view.none")
    if isinstance(value, str):
        from datetime import datetime

        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timefmt.format_when(value)


def _deadline(value: Any) -> str:
    """`08/12 10:30`, Paris time, for a narrow terminal: a hold lives at most a week, so the year says
    nothing here and the table must fit 80 columns; `sarapay status ID` shows the full date."""
    from datetime import datetime, timezone

    from sarapay import timefmt

    if value is None or value == "":
        return i18n.t("view.none")
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        moment = datetime.fromtimestamp(value, timezone.utc)  # Stripe's unix time, as the ledger keeps it
    return moment.astimezone(timefmt.PARIS).strftime("%d/%m %H:%M")


def _money(cents: int | None, currency: str = "eur") -> str:
    from sarapay import money

    return i18n.t("view.none") if cents is None else money.format_amount(cents, currency=currency)


def _table(*columns: str, title: str | None = None, right: Iterable[str] = (), compact: bool = False):
    from rich import box
    from rich.table import Table

    # compact: no vertical rules, a rule under the header only; two spaces between columns (80-column terminals).
    table = Table(
        title=title, title_justify="left", pad_edge=False, show_edge=False,
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD, collapse_padding=compact,
    )
    right = set(right)
    for key in columns:
        table.add_column(i18n.t(key), justify="right" if key in right else "left", no_wrap=True)
    return table


_MONEY_COLUMNS = ("view.col.max", "view.col.authorised", "view.col.captured", "view.col.refunded", "view.col.fee", "view.col.net")


def _fitted(
    columns: list[str], rows: list[list[str]], *, priority: list[str], right: Iterable[str] = (), title: str | None = None,
    footer: list[str] | None = None, wrap: str | None = None, wrap_min: int = 24,
):
    """A table of the columns that fit the terminal, whole: no cell cut with « … ». Columns are taken in
    `priority` order while they fit (each as wide as its widest cell) and shown in their natural order; the
    ones left out are named on stderr. Piped output (240 columns) keeps them all.

    `wrap`: one column of text (a sentence) that is always shown and wraps on words in the width the
    others leave, at least `wrap_min` (or its widest cell if narrower)."""
    from rich.cells import cell_len

    console = out()
    width = console.width if _isatty(console.file) else max(console.width, 240)
    cells = [*rows, *([footer] if footer else [])]
    need = {key: max([cell_len(i18n.t(key)), *(cell_len(row[i]) for row in cells)]) for i, key in enumerate(columns)}
    # Everything fits with the usual " │ " between columns: the usual table. Otherwise a compact one (two
    # spaces between columns) of the columns that fit, by priority.
    compact = sum(need.values()) + 3 * (len(columns) - 1) > width
    kept: list[str] = []
    used = 0
    if wrap is not None:
        used = min(need[wrap], max(wrap_min, cell_len(i18n.t(wrap))))
        kept.append(wrap)
    for key in priority:
        extra = need[key] + ((2 if compact else 3) if kept else 0)
        if used + extra <= width:
            kept.append(key)
            used += extra
    shown = [i for i, key in enumerate(columns) if key in kept]
    table = _table(*(columns[i] for i in shown), title=title, right=right, compact=compact)
    if wrap is not None:
        column = table.columns[[columns[i] for i in shown].index(wrap)]
        column.no_wrap, column.overflow, column.min_width = False, "fold", min(need[wrap], wrap_min)
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    if footer:
        table.add_section()
        table.add_row(*(footer[i] for i in shown), style="bold")
    hidden = [i18n.t(key) for key in columns if key not in kept]
    return table, hidden


def _say_hidden(hidden: list[str], key: str = "view.hidden_columns") -> None:
    if hidden:
        message(i18n.t(key, columns=", ".join(hidden)), style="dim")


i18n.register(
    {
        "view.hidden_columns": {
            "fr": "Colonnes masquées faute de place : {columns} (élargissez le terminal, ou « sarapay status ID » pour le détail).",
            "en": "Columns hidden for lack of room: {columns} (widen the terminal, or `sarapay status ID` for the detail).",
        },
        "view.hidden_log_columns": {
            "fr": "Colonnes masquées faute de place : {columns} (élargissez le terminal, ou sarapay log --json).",
            "en": "Columns hidden for lack of room: {columns} (widen the terminal, or sarapay log --json).",
        },
        "view.hidden_totals": {
            "fr": "Totaux masqués faute de place : {columns}.",
            "en": "Totals hidden for lack of room: {columns}.",
        },
    }
)

# What matters most when the terminal is narrow: which payment, when, its state, the money, the deadline.
_STATUS_PRIORITY = [
    "view.col.consultation", "view.col.when", "view.col.state", "view.col.captured", "view.col.deadline", "view.col.rpps",
    "view.col.authorised", "view.col.net", "view.col.fee", "view.col.refunded", "view.col.max",
]


def _status_table(records: Iterable[dict[str, Any]]):
    from sarapay import statuses

    columns = ["view.col.consultation", "view.col.when", "view.col.rpps", "view.col.state", *_MONEY_COLUMNS, "view.col.deadline"]
    narrow = _isatty(out().file) and out().width < 120
    rows = []
    for row in records:
        currency = row.get("currency") or "eur"
        deadline = row.get("capture_before") if row["state"] == statuses.UNCAPTURED else None
        rows.append([
            row["id"],
            _when(row["scheduled_at"]),
            row["rpps"],
            statuses.label(row["state"]),
            _money(row.get("max_cents"), currency),
            _money(row.get("authorised_cents"), currency),
            _money(row.get("captured_cents"), currency),
            _money(row.get("refunded_cents"), currency),
            _money(row.get("fee_cents"), currency),
            _money(row.get("net_cents"), currency),
            _deadline(deadline) if narrow else _when(deadline),
        ])
    table, hidden = _fitted(columns, rows, priority=_STATUS_PRIORITY, right=_MONEY_COLUMNS)
    return table, hidden, len(rows)


def status_table(records: Iterable[dict[str, Any]]) -> int:
    """The payments table (ledger rows), Paris time, the portal's labels; returns the number of rows.
    On a narrow terminal (80 columns) the less important columns give way rather than being cut."""
    table, hidden, count = _status_table(records)
    _print_data(table)
    _say_hidden(hidden)
    return count


def _totals_table(totals: dict[str, Any], currency: str = "eur"):
    from sarapay import statuses

    sums = ("authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents")
    money_cols = ["view.col.authorised", "view.col.captured", "view.col.refunded", "view.col.fee", "view.col.net"]
    columns = ["view.col.state", "view.col.count", *money_cols]
    ordered = [code for code in statuses.CODES if code in totals["by_state"]]
    rows = [
        [statuses.label(code), str(totals["by_state"][code]["count"]), *(_money(totals["by_state"][code][key], currency) for key in sums)]
        for code in ordered
    ]
    footer = [i18n.t("view.total"), str(totals["count"]), *(_money(totals[key], currency) for key in sums)]
    priority = ["view.col.state", "view.col.count", "view.col.captured", "view.col.net", "view.col.authorised", "view.col.fee",
                "view.col.refunded"]
    return _fitted(
        columns, rows, priority=priority, right=("view.col.count", *money_cols), title=i18n.t("view.totals_title"), footer=footer,
    )


def totals_table(totals: dict[str, Any], currency: str = "eur") -> None:
    """Counts and sums per state (Ledger.totals), then the overall line."""
    table, hidden = _totals_table(totals, currency)
    _print_data(table)
    _say_hidden(hidden, "view.hidden_totals")


def status_listing(records: Iterable[dict[str, Any]], totals: dict[str, Any], notice: str | None = None) -> int:
    """`sarapay status`: the payments table, the totals per state and the notice (« 50 consultations affichées
    sur 65 »). On a terminal they are one text, paged together, the notice first: what the pager shows is
    complete, nothing is left for after it quits. Piped, the tables go to stdout and the words to stderr."""
    table, hidden, count = _status_table(records)
    totals_view, hidden_totals = _totals_table(totals)
    if not _isatty(out().file):
        _print_data(table)
        _say_hidden(hidden)
        _print_data(totals_view)
        _say_hidden(hidden_totals, "view.hidden_totals")
        if notice:
            message(notice)
        return count
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    if notice:
        parts += [Text(notice, style="bold"), Text("")]
    parts.append(table)
    if hidden:
        parts.append(Text(i18n.t("view.hidden_columns", columns=", ".join(hidden)), style="dim"))
    parts += [Text(""), totals_view]
    if hidden_totals:
        parts.append(Text(i18n.t("view.hidden_totals", columns=", ".join(hidden_totals)), style="dim"))
    _print_data(Group(*parts))
    return count


_DETAIL_FIELDS = (
    "id", "rpps", "account_id", "scheduled_at", "state", "paid_online", "max_cents", "authorised_cents", "captured_cents",
    "refunded_cents", "fee_cents", "net_cents", "capture_before", "link_expires_at", "patient_ref", "patient_email",
    "checkout_session_id", "payment_intent_id", "charge_id", "created_at", "updated_at", "stripe_synced_at",
)


def consultation_detail(record: dict[str, Any], history: Iterable[dict[str, Any]], *, show_email: bool = False) -> None:
    """One consultation, every field (email masked unless asked), then its timeline."""
    from rich.table import Table

    from sarapay import ids, statuses

    currency = record.get("currency") or "eur"
    fields = Table(show_header=False, box=None, pad_edge=False)
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column(no_wrap=True)
    none = i18n.t("view.none")
    for key in _DETAIL_FIELDS:
        value = record.get(key)
        if key.endswith("_cents"):
            text = _money(value, currency)
        elif key in ("scheduled_at", "created_at", "updated_at", "stripe_synced_at", "capture_before", "link_expires_at"):
            text = _when(value)
        elif key == "state":
            text = statuses.label(value)
        elif key == "paid_online":
            text = i18n.t("view.yes" if value else "view.no")
        elif key == "patient_email":
            text = (value if show_email else ids.mask_email(value)) or none
        else:
            text = value if value not in (None, "") else none
        fields.add_row(i18n.t(f"view.field.{key}"), str(text))
    _print_data(fields)
    timeline = _table("view.col.when", "view.col.state", "view.col.note", title=i18n.t("view.history_title"))
    for line in history:
        timeline.add_row(_when(line["at"]), statuses.label(line["state"]) if line.get("state") else "", line.get("note") or "")
    _print_data(timeline)


i18n.register(
    {
        "log.detail.capture": {"fr": "capture de {amount}", "en": "capture of {amount}"},
        "log.detail.cancel": {"fr": "libération de l'empreinte", "en": "hold released"},
        "log.detail.close_link": {"fr": "lien de paiement fermé", "en": "payment link closed"},
        "log.detail.cancel_local": {"fr": "annulée sans paiement en ligne (rien envoyé à Stripe)",
                                    "en": "canceled without online payment (nothing sent to Stripe)"},
        "log.detail.refund": {"fr": "remboursement de {amount}", "en": "refund of {amount}"},
        "log.detail.outcome_unknown": {"fr": "résultat inconnu (voir status --refresh)",
                                       "en": "outcome unknown (see status --refresh)"},
        "log.detail.interrupted": {"fr": "interrompu", "en": "interrupted"},
        "log.detail.healthy": {"fr": "appariement en ordre", "en": "pairing healthy"},
        "log.detail.needs-attention": {"fr": "appariement à reprendre", "en": "pairing needs attention"},
        "log.detail.denied": {"fr": "refusé par le praticien", "en": "declined by the practitioner"},
        "log.detail.no-onboarding-link": {"fr": "sans lien d'inscription", "en": "no onboarding link"},
        "log.detail.force": {"fr": "forcé", "en": "forced"},
        "log.detail.max": {"fr": "maximum {before} → {after}", "en": "maximum from {before} to {after}"},
        "log.detail.refreshed": {"fr": "{n} mise à jour|{n} mises à jour", "en": "{n} brought up to date|{n} brought up to date"},
        "log.detail.failed": {"fr": "{n} en échec|{n} en échec", "en": "{n} failed|{n} failed"},
        "log.detail.added": {"fr": "{n} ajoutée|{n} ajoutées", "en": "{n} added|{n} added"},
        "log.detail.corrected": {"fr": "{n} corrigée|{n} corrigées", "en": "{n} corrected|{n} corrected"},
        "log.detail.unread": {"fr": "{n} illisible|{n} illisibles", "en": "{n} unread|{n} unread"},
        "log.detail.updated": {"fr": "{n} mise à jour|{n} mises à jour", "en": "{n} updated|{n} updated"},
        "log.detail.needs_action": {"fr": "{n} à traiter|{n} à traiter", "en": "{n} needs action|{n} need action"},
        "log.detail.holds": {"fr": "{n} empreinte en cours|{n} empreintes en cours", "en": "{n} open hold|{n} open holds"},
        "log.detail.schedule": {"fr": "versements : {text}", "en": "payouts: {text}"},
    }
)
_IDEMPOTENCY = re.compile(r"^sarapay:\S+$")
_MESSAGE_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_-]+)+,?$")
_COUNT = re.compile(r"^(?P<key>[a-z_]+)=(?P<value>\S*)$")
_MAX_CHANGE = re.compile(r"^(?P<before>\d+|None)->(?P<after>\d+)$")


def _short_message(key: str, target: str | None) -> str:
    """A catalog message as a short phrase: its first clause, the row's target for the consultation or the
    practitioner it names, other values left out."""
    text = i18n.catalog()[key][i18n.get_lang()]
    text = re.sub(r"\s*\(\{[^}]*\}\)", "", text)
    text = re.sub(r"\{(consultation_id|rpps|target)\}", target or "…", text)
    text = re.sub(r"\{[^}]*\}", "…", text)
    return re.split(r" : |: |\. | ; |; | \(", text, maxsplit=1)[0].rstrip(" .")


def _counted(key: str, n: str) -> str:
    one, many = i18n.t(key).split("|")
    return (one if n in ("0", "1") else many).format(n=n)


def audit_detail_text(detail: str | None, target: str | None = None) -> str:
    """The stored detail of an audit row (message keys, counters, amounts in cents, idempotency keys) as
    short words for people: `capture 2000 sarapay:capture:…` → « capture de 20,00 € »,
    `paylink.already_authorised` → the message's first clause. `--json` keeps the stored text."""
    if not detail:
        return ""
    catalog = i18n.catalog()
    pairs = dict(word.split("=", 1) for word in detail.split() if "=" in word)
    if "interval" in pairs:  # payouts --schedule: interval=weekly weekly_anchor=monday delay_days=7
        schedule = {**pairs, "delay_days": int(pairs["delay_days"]) if pairs.get("delay_days", "").isdigit() else None}
        return i18n.t("log.detail.schedule", text=schedule_text(schedule)).capitalize()
    words = detail.replace(", outcome unknown", " outcome_unknown").replace("outcome unknown", "outcome_unknown").split()
    said: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in ("capture", "refund") and following.isdigit():
            said.append(i18n.t(f"log.detail.{word}", amount=_money(int(following))))
            i += 2
            continue
        if word in ("cancel", "close_link", "cancel_local") and following.isdigit():
            said.append(i18n.t(f"log.detail.{word}"))
            i += 2
            continue
        i += 1
        bare = word.rstrip(",")
        if _IDEMPOTENCY.match(bare):
            continue  # an idempotency key says nothing to a person (kept in --json)
        if f"log.detail.{bare}" in catalog and "{" not in catalog[f"log.detail.{bare}"]["fr"]:
            said.append(i18n.t(f"log.detail.{bare}"))
        elif (match := _COUNT.match(bare)) and f"log.detail.{match['key']}" in catalog:
            said.append(_counted(f"log.detail.{match['key']}", match["value"]))
        elif match := _MAX_CHANGE.match(bare):
            before = _money(int(match["before"])) if match["before"].isdigit() else i18n.t("view.none")
            said.append(i18n.t("log.detail.max", before=before, after=_money(int(match["after"]))))
        elif _MESSAGE_KEY.match(bare) and bare in catalog:
            said.append(_short_message(bare, target))
        else:
            said.append(bare)
    text = ", ".join(said)
    return text[:1].upper() + text[1:]


# Narrow terminals: when, what, on what, how it ended come first; who and Stripe's request id when room is left.
_AUDIT_PRIORITY = ["view.col.at", "view.col.command", "view.col.target", "view.col.outcome", "view.col.actor", "view.col.request_id"]


def audit_table(entries: Iterable[dict[str, Any]]) -> int:
    """The audit log, fitted to the terminal like `status`: whole cells (no id cut short), the less useful
    columns left out on a narrow terminal (named on stderr), the detail in words, wrapped in the room left."""
    none = i18n.t("view.none")
    columns = ["view.col.at", "view.col.actor", "view.col.command", "view.col.target", "view.col.outcome",
               "view.col.detail", "view.col.request_id"]
    rows = [
        [
            _when(entry["at"]),
            entry["actor"],
            entry["command"],  # as --command takes it
            entry.get("target") or none,
            i18n.t(f"view.outcome.{entry['outcome']}"),
            audit_detail_text(entry.get("detail"), entry.get("target")),
            entry.get("stripe_request_id") or none,
        ]
        for entry in entries
    ]
    table, hidden = _fitted(columns, rows, priority=_AUDIT_PRIORITY, wrap="view.col.detail", wrap_min=18)
    _print_data(table)
    if hidden:
        message(i18n.t("view.hidden_log_columns", columns=", ".join(hidden)), style="dim")
    return len(rows)


def schedule_text(schedule: dict[str, Any] | None, *, editable: bool = True) -> str:
    """`Hebdomadaire, le lundi ; fonds disponibles après 7 jours` from settings.payouts.schedule."""
    if not schedule:
        return i18n.t("view.none")
    interval = schedule.get("interval")
    if interval == "weekly":
        anchor = schedule.get("weekly_anchor") or "monday"
        text = i18n.t("view.schedule.weekly", day=i18n.t(f"view.weekday.{anchor}"))
    elif interval == "monthly":
        text = i18n.t("view.schedule.monthly", day=schedule.get("monthly_anchor") or 1)
    elif interval in ("daily", "manual"):
        text = i18n.t(f"view.schedule.{interval}")
    else:
        text = str(interval)
    if interval != "manual" and schedule.get("delay_days") is not None:
        text = i18n.t("view.schedule.delay", text=text, days=schedule["delay_days"])
    return text if editable else i18n.t("view.schedule.read_only", text=text)


def _balance_text(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return _money(0)
    return " + ".join(_money(entry["amount_cents"], entry["currency"]) for entry in entries)


def payouts_view(overview: dict[str, Any]) -> None:
    """A practitioner's balance, payout schedule and recent payouts (services.payouts.overview)."""
    from rich.table import Table

    from sarapay import timefmt

    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    head.add_row(i18n.t("view.field.rpps"), overview["rpps"])
    head.add_row(i18n.t("view.balance.account"), overview["account_id"])
    head.add_row(i18n.t("view.balance.available"), _balance_text(overview["balance"]["available"]))
    head.add_row(i18n.t("view.balance.pending"), _balance_text(overview["balance"]["pending"]))
    head.add_row(i18n.t("view.balance.schedule"), schedule_text(overview["schedule"], editable=overview["schedule_editable"]))
    _print_data(head)
    if not overview["payouts"]:
        message(i18n.t("view.no_payouts"))
        return
    table = _table(
        "view.col.payout_id", "view.col.amount", "view.col.payout_status", "view.col.arrival",
        title=i18n.t("view.payouts_title"), right=("view.col.amount",),
    )
    from datetime import datetime

    for payout in overview["payouts"]:
        arrival = payout.get("arrival_date")
        table.add_row(
            payout["id"],
            _money(payout["amount_cents"], payout["currency"]),
            i18n.t(f"view.payout.{payout['status']}") if f"view.payout.{payout['status']}" in i18n.catalog() else payout["status"],
            timefmt.format_day(datetime.fromisoformat(arrival.replace("Z", "+00:00"))) if arrival else i18n.t("view.none"),
        )
    _print_data(table)


# --- what a payout contains (payouts RPPS --payout po_…) and the monthly statement ---------------------------

i18n.register(
    {
        "view.kind.charge": {"fr": "Paiement", "en": "Payment"},
        "view.kind.refund": {"fr": "Remboursement", "en": "Refund"},
        "view.kind.dispute_withdrawal": {"fr": "Litige : retrait", "en": "Dispute: withdrawal"},
        "view.kind.dispute_reinstatement": {"fr": "Litige : restitué", "en": "Dispute: reinstated"},
        "view.kind.payout": {"fr": "Versement", "en": "Payout"},
        "view.kind.other": {"fr": "Autre ({type})", "en": "Other ({type})"},
        "view.col.kind": {"fr": "Opération", "en": "Transaction"},
        "view.col.day": {"fr": "Date", "en": "Day"},
        "view.payout.head.id": {"fr": "Versement", "en": "Payout"},
        "view.payout.head.amount": {"fr": "Montant du versement", "en": "Payout amount"},
        "view.payout.head.status": {"fr": "État", "en": "Status"},
        "view.payout.head.arrival": {"fr": "Arrivée sur le compte bancaire", "en": "Arrival in the bank account"},
        "view.payout.head.created": {"fr": "Créé le", "en": "Created"},
        "view.payout.head.automatic": {"fr": "Déclenchement", "en": "Triggered by"},
        "view.payout.automatic": {"fr": "automatique (calendrier des versements)", "en": "automatic (payout schedule)"},
        "view.payout.manual": {"fr": "manuel (à la demande)", "en": "manual (on request)"},
        "view.payout.contents_title": {"fr": "Contenu du versement", "en": "What the payout contains"},
        "view.payout.sum_of_nets": {"fr": "Somme des nets", "en": "Sum of the nets"},
        "view.payout.difference": {"fr": "Écart", "en": "Difference"},
        "view.payout.no_transactions": {
            "fr": "Stripe ne liste aucune transaction pour ce versement.",
            "en": "Stripe lists no transaction for this payout.",
        },
    }
)


def kind_label(kind: str, type_: str | None = None) -> str:
    """`Paiement`, `Remboursement`, `Litige : retrait`... for a line's kind (services.balance_lines.KINDS)."""
    key = f"view.kind.{kind}"
    if key not in i18n.catalog():
        key = "view.kind.other"
    return i18n.t(key, type=type_ or kind)


def payout_status_label(status: str | None) -> str:
    key = f"view.payout.{status}"
    return i18n.t(key) if status and key in i18n.catalog() else (status or i18n.t("view.none"))


def _day(value: Any) -> str:
    from datetime import datetime

    from sarapay import timefmt

    if not value:
        return i18n.t("view.none")
    return timefmt.format_day(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _lines_table(lines: list[dict[str, Any]], totals: dict[str, Any] | None, currency: str, *, title: str | None = None):
    """Balance-transaction lines: what, which consultation, when, gross, fee, net (80 columns: the least
    needed columns give way, named on stderr)."""
    columns = ["view.col.kind", "view.col.consultation", "view.col.day", "view.col.amount", "view.col.fee", "view.col.net"]
    rows = [
        [
            kind_label(row["kind"], row.get("type")),
            row.get("consultation_id") or i18n.t("view.none"),
            _day(row.get("created")),
            _money(row["amount_cents"], row["currency"]),
            _money(row["fee_cents"], row["currency"]),
            _money(row["net_cents"], row["currency"]),
        ]
        for row in lines
    ]
    footer = None
    if totals is not None:
        footer = [
            i18n.t("view.total"), "", "", _money(totals["amount_cents"], currency), _money(totals["fee_cents"], currency),
            _money(totals["net_cents"], currency),
        ]
    priority = ["view.col.kind", "view.col.consultation", "view.col.net", "view.col.day", "view.col.amount", "view.col.fee"]
    money_cols = ("view.col.amount", "view.col.fee", "view.col.net")
    return _fitted(columns, rows, priority=priority, right=money_cols, title=title, footer=footer)


def payout_contents_view(view: dict[str, Any]) -> None:
    """One payout: its head, then (automatic payouts) one line per balance transaction, the totals and the
    check of the nets against the payout's amount (services.payouts.payout_contents)."""
    from rich.table import Table

    payout = view["payout"]
    currency = payout["currency"]
    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    head.add_row(i18n.t("view.field.rpps"), view["rpps"])
    head.add_row(i18n.t("view.balance.account"), view["account_id"])
    head.add_row(i18n.t("view.payout.head.id"), payout["id"])
    head.add_row(i18n.t("view.payout.head.amount"), _money(payout["amount_cents"], currency))
    head.add_row(i18n.t("view.payout.head.status"), payout_status_label(payout.get("status")))
    head.add_row(i18n.t("view.payout.head.arrival"), _day(payout.get("arrival_date")))
    head.add_row(i18n.t("view.payout.head.created"), _when(payout.get("created")))
    head.add_row(i18n.t("view.payout.head.automatic"), i18n.t("view.payout.automatic" if payout["automatic"] else "view.payout.manual"))
    _print_data(head)
    if view["transactions"] is None:
        return
    if not view["transactions"]:
        message(i18n.t("view.payout.no_transactions"))
    else:
        table, hidden = _lines_table(view["transactions"], view["totals"], currency, title=i18n.t("view.payout.contents_title"))
        _print_data(table)
        _say_hidden(hidden)
    check = Table(show_header=False, box=None, pad_edge=False)
    check.add_column(style="bold", no_wrap=True)
    check.add_column(justify="right", no_wrap=True)
    check.add_row(i18n.t("view.payout.sum_of_nets"), _money(view["totals"]["net_cents"], currency))
    check.add_row(i18n.t("view.payout.head.amount"), _money(payout["amount_cents"], currency))
    check.add_row(i18n.t("view.payout.difference"), _money(view["difference_cents"], currency),
                  style=None if view["difference_cents"] == 0 else "bold red")
    _print_data(check)


i18n.register(
    {
        "view.statement.title": {"fr": "Relevé mensuel", "en": "Monthly statement"},
        "view.statement.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "view.statement.month": {"fr": "Mois", "en": "Month"},
        "view.statement.bounds": {"fr": "Période", "en": "Period"},
        "view.statement.period": {
            "fr": "du {start} au {end} inclus (heure de Paris)",
            "en": "from {start} to {end} inclusive (Paris time)",
        },
        "view.statement.transactions_title": {"fr": "Transactions Stripe du mois", "en": "Stripe transactions of the month"},
        "view.statement.payouts_title": {"fr": "Versements arrivés dans le mois", "en": "Payouts that arrived in the month"},
        "view.statement.totals_title": {"fr": "Totaux du mois", "en": "Totals of the month"},
        "view.statement.none": {"fr": "Aucune transaction Stripe ce mois-ci.", "en": "No Stripe transaction this month."},
        "view.statement.no_payouts": {"fr": "Aucun versement arrivé ce mois-ci.", "en": "No payout arrived this month."},
        "view.statement.section.charges": {"fr": "Consultations encaissées", "en": "Consultations captured"},
        "view.statement.section.refunds": {"fr": "Remboursements", "en": "Refunds"},
        "view.statement.section.disputes": {"fr": "Litiges", "en": "Disputes"},
        "view.statement.section.other": {"fr": "Autres opérations Stripe", "en": "Other Stripe transactions"},
        "view.statement.section.transactions": {"fr": "Total des transactions", "en": "All transactions"},
        "view.statement.section.payouts": {"fr": "Versements arrivés", "en": "Payouts arrived"},
        "view.statement.not_counted": {
            "fr": "Les versements en échec ou annulés sont listés sans être comptés.",
            "en": "Failed or canceled payouts are listed, not counted.",
        },
        "view.col.section": {"fr": "Rubrique", "en": "Section"},
        "view.txn.available": {"fr": "Disponible", "en": "Available"},
        "view.txn.pending": {"fr": "En attente", "en": "Pending"},
        "view.field.date": {"fr": "Date (Paris)", "en": "Date (Paris)"},
        "view.field.kind": {"fr": "Opération", "en": "Transaction"},
        "view.field.consultation_id": {"fr": "Consultation", "en": "Consultation ID"},
        "view.field.amount_cents": {"fr": "Montant", "en": "Amount"},
        "view.field.stripe_id": {"fr": "Identifiant Stripe", "en": "Stripe ID"},
        "view.field.type": {"fr": "Type Stripe", "en": "Stripe type"},
        "view.field.source_id": {"fr": "Objet Stripe lié", "en": "Related Stripe object"},
        "view.field.status": {"fr": "Statut", "en": "Status"},
    }
)


def statement_status_label(value: Any, row: dict[str, Any]) -> str:
    """A payout's status (Payé, En transit…) or a balance transaction's (Disponible, En attente)."""
    if row.get("kind") == "payout":
        return payout_status_label(value)
    key = f"view.txn.{value}"
    return i18n.t(key) if key in i18n.catalog() else str(value)


# --excel of a statement: codes as words.
STATEMENT_EXCEL_LABELS: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "kind": lambda value, row: kind_label(value, row.get("type")),
    "status": statement_status_label,
}


def statement_bounds(statement: dict[str, Any]) -> str:
    """`du 01/11/2026 au 30/11/2026 inclus (heure de Paris)`: the statement's first and last day."""
    from datetime import datetime, timedelta

    from sarapay import timefmt

    start = datetime.fromisoformat(statement["period"]["start"].replace("Z", "+00:00"))
    last = datetime.fromisoformat(statement["period"]["end"].replace("Z", "+00:00")) - timedelta(seconds=1)
    return i18n.t("view.statement.period", start=timefmt.format_day(start), end=timefmt.format_day(last))


def statement_month(statement: dict[str, Any]) -> str:
    """`novembre 2026`."""
    from sarapay import timefmt

    year, month = (int(part) for part in statement["month"].split("-"))
    return timefmt.format_month(year, month)


def statement_view(statement: dict[str, Any]) -> None:
    """The monthly statement on a terminal: who and which month, the month's transactions, the payouts that
    arrived, the totals per section (services.statements.monthly_statement)."""
    from rich.table import Table

    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    who = f"{statement['name']} (RPPS {statement['rpps']})" if statement.get("name") else f"RPPS {statement['rpps']}"
    head.add_row(i18n.t("view.statement.practitioner"), who)
    head.add_row(i18n.t("view.balance.account"), statement["account_id"])
    head.add_row(i18n.t("view.statement.month"), statement_month(statement))
    head.add_row(i18n.t("view.statement.bounds"), statement_bounds(statement))
    _print_data(head)
    currencies = list(statement["totals"]) or ["eur"]
    if statement["transactions"]:
        for currency in currencies:
            mine = [row for row in statement["transactions"] if row["currency"] == currency]
            if mine:
                table, hidden = _lines_table(mine, statement["totals"][currency]["transactions"], currency,
                                             title=i18n.t("view.statement.transactions_title"))
                _print_data(table)
                _say_hidden(hidden)
    else:
        message(i18n.t("view.statement.none"))
    if statement["payouts"]:
        table = _table("view.col.payout_id", "view.col.arrival", "view.col.payout_status", "view.col.amount",
                       title=i18n.t("view.statement.payouts_title"), right=("view.col.amount",))
        for payout in statement["payouts"]:
            table.add_row(payout["id"], _day(payout.get("arrival_date")), payout_status_label(payout.get("status")),
                          _money(payout["amount_cents"], payout["currency"]))
        _print_data(table)
        if any(p["status"] in ("failed", "canceled") for p in statement["payouts"]):
            message(i18n.t("view.statement.not_counted"))
    else:
        message(i18n.t("view.statement.no_payouts"))
    for currency in currencies:
        totals = statement["totals"][currency]
        money_cols = ("view.col.amount", "view.col.fee", "view.col.net")
        table = _table("view.col.section", "view.col.count", *money_cols, title=i18n.t("view.statement.totals_title"),
                       right=("view.col.count", *money_cols))
        for section in ("charges", "refunds", "disputes", "other"):
            sums = totals[section]
            if sums["count"] or section in ("charges", "refunds"):
                table.add_row(i18n.t(f"view.statement.section.{section}"), str(sums["count"]),
                              *(_money(sums[key], currency) for key in ("amount_cents", "fee_cents", "net_cents")))
        table.add_section()
        sums = totals["transactions"]
        table.add_row(i18n.t("view.statement.section.transactions"), str(sums["count"]),
                      *(_money(sums[key], currency) for key in ("amount_cents", "fee_cents", "net_cents")), style="bold")
        table.add_row(i18n.t("view.statement.section.payouts"), str(totals["payouts"]["count"]),
                      _money(totals["payouts"]["amount_cents"], currency), "", "")
        _print_data(table)


def fees_view(estimate: dict[str, Any]) -> None:
    """Amount, estimated fee (with its rule) and net, French money format."""
    from rich.table import Table

    from sarapay import money

    rate = estimate["rate_percent"]
    fixed = _money(estimate["fixed_cents"], estimate["currency"])
    rule = f"{rate.replace('.', ',')}\u00a0% + {fixed}" if i18n.get_lang() == "fr" else f"{rate}% + {fixed}"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_row(i18n.t("view.fees.amount"), money.format_amount(estimate["amount_cents"], currency=estimate["currency"]))
    table.add_row(i18n.t("view.fees.fee", rule=rule), money.format_amount(estimate["fee_cents"], currency=estimate["currency"]))
    table.add_row(i18n.t("view.fees.net"), money.format_amount(estimate["net_cents"], currency=estimate["currency"]), style="bold")
    _print_data(table)


# --- practitioners (prefs show) -------------------------------------------------------------------------

i18n.register(
    {
        "view.link_method.oauth": {"fr": "Connect OAuth", "en": "Connect OAuth"},
        "view.link_method.created": {"fr": "créé par la plateforme", "en": "created by the platform"},
        "view.link_method.attached": {"fr": "rattaché", "en": "attached"},
        "view.link_method.none": {"fr": "non lié", "en": "not linked"},
        "view.col.practitioner_name": {"fr": "Nom", "en": "Name"},
        "view.col.email": {"fr": "E-mail", "en": "Email"},
        "view.col.account": {"fr": "Compte Stripe", "en": "Stripe account"},
        "view.col.link_method": {"fr": "Liaison", "en": "Link"},
        "view.col.default_max": {"fr": "Maximum par défaut", "en": "Default maximum"},
        "view.col.lang": {"fr": "Langue", "en": "Language"},
    }
)


def link_method_label(method: str | None) -> str:
    return i18n.t(f"view.link_method.{method or 'none'}")


def practitioners_table(rows: Iterable[dict[str, Any]]) -> int:
    """RPPS, name, masked email, account, link method, default maximum, language of their emails; returns the
    number of rows."""
    from sarapay.ids import mask_email

    table = _table(
        "view.col.rpps", "view.col.practitioner_name", "view.col.email", "view.col.account", "view.col.link_method",
        "view.col.default_max", "view.col.lang", right=("view.col.default_max",),
    )
    count = 0
    for row in rows:
        count += 1
        table.add_row(
            row["rpps"], row.get("name") or "", mask_email(row.get("email")), row.get("account_id") or "",
            link_method_label(row.get("link_method")), _money(row["default_max_cents"]), row.get("lang") or "fr",
        )
    _print_data(table)
    return count


# --- reconcile --------------------------------------------------------------------------------------------

i18n.register(
    {
        "view.reconcile.hold_expiring": {"fr": "Empreinte à capturer", "en": "Hold to capture"},
        "view.reconcile.hold_expired": {"fr": "Empreinte expirée", "en": "Hold expired"},
        "view.reconcile.link_expired": {"fr": "Lien expiré avant la consultation", "en": "Link expired before the consultation"},
        "view.reconcile.declined": {"fr": "Carte refusée", "en": "Card declined"},
        "view.reconcile.abandoned": {"fr": "Paiement abandonné", "en": "Payment abandoned"},
        "view.reconcile.account_refused": {"fr": "Compte Stripe inaccessible", "en": "Stripe account unreachable"},
        "view.reconcile.dispute_new": {"fr": "Paiement contesté", "en": "Payment disputed"},
        "view.reconcile.dispute_deadline": {"fr": "Contestation à répondre", "en": "Dispute to answer"},
        "view.reconcile.move_in_doubt": {
            "fr": "Sans réponse de Stripe, à relancer",
            "en": "No answer from Stripe, to run again",
        },
        "view.reconcile.account_disconnected": {"fr": "Praticien déconnecté de la plateforme", "en": "Practitioner disconnected the platform"},
        "view.col.what": {"fr": "À traiter", "en": "Needs action"},
        "view.col.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "view.col.due": {"fr": "Échéance (Paris)", "en": "Deadline (Paris)"},
    }
)



i18n.register(
    {
        "view.move_in_doubt": {
            "fr": "Envoyé à Stripe le {when} sans réponse : {what}. Relancez « {command} » "
            "(sans risque : même clé d'idempotence, l'argent ne bouge qu'une fois).",
            "en": "Sent to Stripe on {when} without an answer: {what}. Run '{command}' again "
            "(safe: same idempotency key, money moves only once).",
        },
    }
)


def move_in_doubt_text(consultation_id: str, move: dict[str, Any]) -> str:
    """The sentence for a money move sent without an answer, naming the command to re-run."""
    from sarapay import moves

    return i18n.t(
        "view.move_in_doubt", when=_when(move["created_at"]), what=moves.describe(move["action"], move["amount_cents"]),
        command=moves.rerun_command(consultation_id, move),
    )


i18n.register(
    {
        # Card declines as the patient's bank gives them (Stripe's decline_code), said in words.
        "view.decline.generic_decline": {"fr": "refusée par la banque", "en": "declined by the bank"},
        "view.decline.do_not_honor": {"fr": "refusée par la banque", "en": "declined by the bank"},
        "view.decline.insufficient_funds": {"fr": "fonds insuffisants", "en": "insufficient funds"},
        "view.decline.lost_card": {"fr": "carte déclarée perdue", "en": "card reported lost"},
        "view.decline.stolen_card": {"fr": "carte déclarée volée", "en": "card reported stolen"},
        "view.decline.expired_card": {"fr": "carte expirée", "en": "expired card"},
        "view.decline.incorrect_cvc": {"fr": "cryptogramme incorrect", "en": "incorrect security code"},
        "view.decline.card_velocity_exceeded": {"fr": "plafond de la carte atteint", "en": "card limit reached"},
        "view.decline.fraudulent": {"fr": "refusée (suspicion de fraude)", "en": "declined (suspected fraud)"},
        # The plain lines of reconcile (cron mail): labelled dates and what to do next.
        "view.reconcile.due_at": {"fr": "échéance {when}", "en": "deadline {when}"},
        "view.reconcile.visit_at": {"fr": "consultation {when}", "en": "consultation {when}"},
        "view.reconcile.next": {"fr": "à faire : {step}", "en": "next: {step}"},
        "view.reconcile.next.hold_expiring": {
            "fr": "capturer après l'acte (sarapay capture {cid}) ou libérer (sarapay cancel {cid})",
            "en": "capture after the act (sarapay capture {cid}) or release (sarapay cancel {cid})",
        },
        "view.reconcile.next.move_in_doubt": {"fr": "relancer la commande ci-dessus (sans risque)", "en": "run the command above again (safe)"},
        "view.reconcile.next.dispute_deadline": {
            "fr": "le praticien répond dans son tableau de bord Stripe (sarapay disputes --open)",
            "en": "the practitioner answers in their Stripe dashboard (sarapay disputes --open)",
        },
        "view.reconcile.next.hold_expired": {
            "fr": "si l'acte est à payer, nouveau lien : sarapay pay-link {cid}",
            "en": "if the act is to be paid, a new link: sarapay pay-link {cid}",
        },
        "view.reconcile.next.dispute_new": {"fr": "voir sarapay disputes --open", "en": "see sarapay disputes --open"},
        "view.reconcile.next.account_disconnected": {
            "fr": "voir avec le praticien (sarapay link {rpps} --check)",
            "en": "see with the practitioner (sarapay link {rpps} --check)",
        },
        "view.reconcile.next.link_expired": {
            "fr": "envoyer un nouveau lien : sarapay pay-link {cid}",
            "en": "send a new link: sarapay pay-link {cid}",
        },
        "view.reconcile.next.declined": {
            "fr": "le patient peut réessayer avec une autre carte sur le même lien",
            "en": "the patient can try again with another card on the same link",
        },
        "view.reconcile.next.abandoned": {
            "fr": "relancer le patient (sarapay pay-link {cid}) ou fermer (sarapay cancel {cid})",
            "en": "remind the patient (sarapay pay-link {cid}) or close it (sarapay cancel {cid})",
        },
        "view.reconcile.next.account_refused": {
            "fr": "vérifier l'appariement : sarapay link {rpps} --check",
            "en": "check the pairing: sarapay link {rpps} --check",
        },
    }
)


def decline_text(code: str | None) -> str | None:
    """A decline code in words when it is a known one, else the code itself."""
    key = f"view.decline.{code}"
    return i18n.t(key) if code and key in i18n.catalog() else code


def _reconcile_cells(item: dict[str, Any]) -> list[str]:
    none = i18n.t("view.none")
    who = item["rpps"] + (f" ({item['practitioner']})" if item.get("practitioner") else "")
    detail = item.get("detail")
    if item["kind"] == "declined":
        detail = decline_text(detail)
    if item.get("dispute_id"):
        from sarapay import disputes

        detail = disputes.reason_label(detail, short=True)
    elif item["kind"] == "move_in_doubt" and detail:  # the command to re-run (same key: the money moves once)
        from sarapay import moves

        detail = moves.rerun_command(item.get("consultation_id") or "", {"action": detail, "amount_cents": item.get("amount_cents")})
    return [
        i18n.t(f"view.reconcile.{item['kind']}") + (f" ({detail})" if detail else ""),
        item.get("consultation_id") or none,
        who,
        _money(item.get("amount_cents"), item.get("currency") or "eur"),
        _when(item.get("deadline")),
        _when(item.get("scheduled_at")),
    ]


def reconcile_items(items: Iterable[dict[str, Any]]) -> int:
    """What reconcile found (machine items of services.reconcile.report_document): a table on a terminal
    (fitting 80 columns: the practitioner's name under the RPPS, the consultation's date left to the plain
    lines and --json), one plain line per item otherwise (cron mail, logs: no box drawing, nothing wrapped)."""
    items = list(items)
    if out().is_terminal:
        table = _table("view.col.what", "view.col.consultation", "view.col.practitioner", "view.col.amount", "view.col.due",
                       right=("view.col.amount",))
        table.columns[0].no_wrap = False
        table.columns[0].min_width = 14
        for item in items:
            cells = _reconcile_cells(item)
            who = item["rpps"] + (f"\n{item['practitioner']}" if item.get("practitioner") else "")
            table.add_row(cells[0], cells[1], who, cells[3], cells[4])
        _print_data(table)
    else:
        for item in items:
            data_line(_reconcile_line(item))
    return len(items)


def _reconcile_line(item: dict[str, Any]) -> str:
    """One plain line (cron mail, logs): what, which consultation, who, how much, the dates named, what to do."""
    what, consultation, who, amount = _reconcile_cells(item)[:4]
    parts = [what, consultation, who, amount]
    if item.get("deadline"):
        parts.append(i18n.t("view.reconcile.due_at", when=_when(item["deadline"])))
    if item.get("scheduled_at"):
        parts.append(i18n.t("view.reconcile.visit_at", when=_when(item["scheduled_at"])))
    step_key = f"view.reconcile.next.{item['kind']}"
    if step_key in i18n.catalog():
        step = i18n.t(step_key, cid=item.get("consultation_id") or "", rpps=item.get("rpps") or "")
        parts.append(i18n.t("view.reconcile.next", step=step))
    return " · ".join(parts)

# --- disputes ---------------------------------------------------------------------------------------------

i18n.register(
    {
        "view.col.reason": {"fr": "Motif", "en": "Reason"},
        "view.col.dispute_status": {"fr": "Contestation", "en": "Dispute"},
        "view.col.answer_by": {"fr": "Échéance", "en": "Answer by"},  # short: the table fits 80 columns
    }
)

_DISPUTE_PRIORITY = [
    "view.col.consultation", "view.col.dispute_status", "view.col.amount", "view.col.answer_by", "view.col.reason",
    "view.col.fee", "view.col.rpps",
]


def disputes_table(rows: Iterable[dict[str, Any]]) -> int:
    """Disputed payments (machine rows of services.disputes): amount taken back, dispute fee, reason and
    status in words, the answer deadline in Paris time; fits 80 columns like the payments table."""
    from sarapay import disputes

    columns = ["view.col.consultation", "view.col.rpps", "view.col.amount", "view.col.fee", "view.col.reason",
               "view.col.dispute_status", "view.col.answer_by"]
    narrow = _isatty(out().file) and out().width < 120
    cells = []
    for row in rows:
        due = row["due_by"] if row["needs_response"] else None
        cells.append([
            row["consultation_id"],
            row["rpps"],
            _money(row["amount_cents"], row["currency"]),
            _money(row["fee_cents"], row["currency"]),
            disputes.reason_label(row["reason"], short=True),
            disputes.status_label(row["status"]),
            _deadline(due) if narrow else _when(due),
        ])
    table, hidden = _fitted(columns, cells, priority=_DISPUTE_PRIORITY, right=("view.col.amount", "view.col.fee"))
    _print_data(table)
    _say_hidden(hidden)
    return len(cells)


class progress:
    """`with render.progress(label, enabled) as step:` a transient progress bar on stderr, only when stderr is a
    terminal; `step(done, total)` moves it. `step` is None otherwise (cron, pipes, --json), so services can
    take it as an optional callback."""

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled and err().is_terminal
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "progress | None":
        if not self.enabled:
            return None
        from rich.progress import Progress

        self._bar = Progress(console=err(), transient=True)
        self._bar.__enter__()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
