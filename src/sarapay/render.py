"""Everything that reaches the terminal: data on stdout, messages and progress on stderr.

Human output is French by default (labels from statuses.py, amounts from money.py); machine output
(--json, --csv, --nl) is language-independent: stable keys, integer cents, ISO 8601 UTC.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Iterable

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
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


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


def emit_excel(rows: Iterable[dict[str, Any]], fields: Iterable[str]) -> int:
    """CSV for French spreadsheets (Excel, LibreOffice in French): UTF-8 with a BOM so Excel reads the
    accents, `;` since `,` is the decimal mark, CRLF, amounts `25,00` (no symbol, no grouping: a number to
    Excel), times `05/01/2026 14:07` in Paris time, states and yes/no as the French labels, French headers.
    Streamed like emit_csv."""
    import csv

    from sarapay import money, statuses, timefmt

    fields = list(fields)

    def cell(key: str, value: Any) -> Any:
        if value is None:
            return ""
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
        writer.writerow([cell(key, value) for key, value in row.items()])
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
    footer: list[str] | None = None,
):
    """A table of the columns that fit the terminal, whole: no cell cut with « … ». Columns are taken in
    `priority` order while they fit (each as wide as its widest cell) and shown in their natural order; the
    ones left out are named on stderr. Piped output (240 columns) keeps them all."""
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
    for key in priority:
        extra = need[key] + ((2 if compact else 3) if kept else 0)
        if used + extra <= width:
            kept.append(key)
            used += extra
    shown = [i for i, key in enumerate(columns) if key in kept]
    table = _table(*(columns[i] for i in shown), title=title, right=right, compact=compact)
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


def status_table(records: Iterable[dict[str, Any]]) -> int:
    """The payments table (ledger rows), Paris time, the portal's labels; returns the number of rows.
    On a narrow terminal (80 columns) the less important columns give way rather than being cut."""
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
    _print_data(table)
    _say_hidden(hidden)
    return len(rows)


def totals_table(totals: dict[str, Any], currency: str = "eur") -> None:
    """Counts and sums per state (Ledger.totals), then the overall line."""
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
    table, hidden = _fitted(
        columns, rows, priority=priority, right=("view.col.count", *money_cols), title=i18n.t("view.totals_title"), footer=footer,
    )
    _print_data(table)
    _say_hidden(hidden, "view.hidden_totals")


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


def audit_table(entries: Iterable[dict[str, Any]]) -> int:
    table = _table(
        "view.col.at", "view.col.actor", "view.col.command", "view.col.target", "view.col.outcome", "view.col.detail",
        "view.col.request_id",
    )
    none = i18n.t("view.none")
    count = 0
    for entry in entries:
        table.add_row(
            _when(entry["at"]),
            entry["actor"],
            entry["command"],
            entry.get("target") or none,
            i18n.t(f"view.outcome.{entry['outcome']}"),
            entry.get("detail") or "",
            entry.get("stripe_request_id") or none,
        )
        count += 1
    _print_data(table)
    return count


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
    }
)


def link_method_label(method: str | None) -> str:
    return i18n.t(f"view.link_method.{method or 'none'}")


def practitioners_table(rows: Iterable[dict[str, Any]]) -> int:
    """RPPS, name, masked email, account, link method, default maximum; returns the number of rows."""
    from sarapay.ids import mask_email

    table = _table(
        "view.col.rpps", "view.col.practitioner_name", "view.col.email", "view.col.account", "view.col.link_method",
        "view.col.default_max", right=("view.col.default_max",),
    )
    count = 0
    for row in rows:
        count += 1
        table.add_row(
            row["rpps"], row.get("name") or "", mask_email(row.get("email")), row.get("account_id") or "",
            link_method_label(row.get("link_method")), _money(row["default_max_cents"]),
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
        "view.reconcile.account_disconnected": {"fr": "Praticien déconnecté de la plateforme", "en": "Practitioner disconnected the platform"},
        "view.col.what": {"fr": "À traiter", "en": "Needs action"},
        "view.col.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "view.col.due": {"fr": "Échéance (Paris)", "en": "Deadline (Paris)"},
    }
)


def _reconcile_cells(item: dict[str, Any]) -> list[str]:
    none = i18n.t("view.none")
    who = item["rpps"] + (f" ({item['practitioner']})" if item.get("practitioner") else "")
    detail = item.get("detail")
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
            data_line(" · ".join(_reconcile_cells(item)))
    return len(items)

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
