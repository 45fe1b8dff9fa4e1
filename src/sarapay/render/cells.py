"""What every table shares: the column and field labels, cells (Paris time, money, deadlines) and tables
that fit the terminal (the less useful columns give way, named on stderr, rather than being cut).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from sarapay import i18n
from sarapay.render import console

if TYPE_CHECKING:
    from rich.table import Table


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
        "view.col.amount": {"fr": "Montant", "en": "Amount"},
        "view.col.count": {"fr": "Nombre", "en": "Count"},
        "view.totals_title": {"fr": "Totaux par état", "en": "Totals per state"},
        "view.total": {"fr": "Total", "en": "Total"},
        "view.none": {"fr": "—", "en": "—"},
        "view.yes": {"fr": "oui", "en": "yes"},
        "view.no": {"fr": "non", "en": "no"},
        "view.field.id": {"fr": "Consultation", "en": "Consultation"},
        "view.field.currency": {"fr": "Devise", "en": "Currency"},
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
        "view.no_payouts": {"fr": "Aucun versement pour l'instant.", "en": "No payout yet."},
    }
)


def when(value: Any) -> str:
    from sarapay import timefmt

    if value is None or value == "":
        return i18n.t("view.none")
    if isinstance(value, str):
        from datetime import datetime

        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timefmt.format_when(value)


def narrow() -> bool:
    """A terminal under 120 columns: deadlines are shown short (`08/12 10:30`) so the tables fit."""
    return console.isatty(console.out().file) and console.out().width < 120


def deadline(value: Any) -> str:
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


def amount(cents: int | None, currency: str = "eur") -> str:
    from sarapay import money

    return i18n.t("view.none") if cents is None else money.format_amount(cents, currency=currency)


def new_table(*columns: str, title: str | None = None, right: Iterable[str] = (), compact: bool = False) -> Table:
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


def fitted(
    columns: list[str], rows: list[list[str]], *, priority: list[str], right: Iterable[str] = (), title: str | None = None,
    footer: list[str] | None = None, wrap: str | None = None, wrap_min: int = 24,
) -> tuple[Table, list[str]]:
    """A table of the columns that fit the terminal, whole: no cell cut with « … ». Columns are taken in
    `priority` order while they fit (each as wide as its widest cell) and shown in their natural order; the
    ones left out are named on stderr. Piped output (240 columns) keeps them all.

    `wrap`: one column of text (a sentence) that is always shown and wraps on words in the width the
    others leave, at least `wrap_min` (or its widest cell if narrower)."""
    from rich.cells import cell_len

    stdout = console.out()
    width = stdout.width if console.isatty(stdout.file) else max(stdout.width, 240)
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
    table = new_table(*(columns[i] for i in shown), title=title, right=right, compact=compact)
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


def say_hidden(hidden: list[str], key: str = "view.hidden_columns") -> None:
    if hidden:
        console.message(i18n.t(key, columns=", ".join(hidden)), style="dim")


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


def day(value: Any) -> str:
    from datetime import datetime

    from sarapay import timefmt

    if not value:
        return i18n.t("view.none")
    return timefmt.format_day(datetime.fromisoformat(value.replace("Z", "+00:00")))
