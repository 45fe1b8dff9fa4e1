"""The safety step before money moves: a banner saying exactly what will happen, then a confirmation.

Shared by capture, cancel, refund and unlink. On a TTY the user answers; `--yes` skips the question;
without a TTY and without `--yes` nothing moves (a cron job must say `--yes` explicitly).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from sarapay import i18n
from sarapay.render import console
from sarapay.errors import Cancelled

if TYPE_CHECKING:
    from sarapay.stripe_gateway import StripeRequest

i18n.register(
    {
        "confirm.question": {"fr": "Confirmer ? [o/N]", "en": "Confirm? [y/N]"},
        "confirm.refused": {
            "fr": "Abandon : rien n'a été envoyé à Stripe.",
            "en": "Aborted: nothing was sent to Stripe.",
        },
        "confirm.needs_yes": {
            "fr": "Pas de terminal pour confirmer : ajoutez --yes pour exécuter sans question, ou --dry-run pour voir la requête.",
            "en": "No terminal to confirm on: add --yes to run without a question, or --dry-run to see the request.",
        },
        "confirm.mode": {"fr": "Mode", "en": "Mode"},
        "confirm.mode_test": {"fr": "TEST (aucun argent réel)", "en": "TEST (no real money)"},
        "confirm.mode_live": {"fr": "LIVE — argent réel", "en": "LIVE — real money"},
        "confirm.dry_run": {
            "fr": "Simulation (--dry-run) : voici la requête, rien n'est envoyé.",
            "en": "Dry run (--dry-run): here is the request, nothing is sent.",
        },
    }
)


YES_WORDS = frozenset({"o", "oui", "y", "yes"})


def is_interactive() -> bool:
    """Whether a person can answer a question (tests replace this to play that person)."""
    return sys.stdin.isatty()


def show_banner(title: str, rows: list[tuple[str, str]], *, live: bool) -> None:
    """A framed summary on stderr: the action, then label/value rows (mode first)."""
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    mode = i18n.t("confirm.mode_live") if live else i18n.t("confirm.mode_test")
    grid.add_row(i18n.t("confirm.mode"), mode)
    for label, value in rows:
        grid.add_row(label, value)
    console.err().print(Panel(grid, title=title, border_style="red" if live else "cyan", expand=False))


def confirm_or_abort(*, yes: bool, question: str | None = None) -> None:
    if yes:
        return
    if not is_interactive():
        raise Cancelled("confirm.needs_yes")
    try:
        answer = typer.prompt(question or i18n.t("confirm.question"), default="", show_default=False, err=True, prompt_suffix=" ")
    except typer.Abort:  # Ctrl-D / end of input: a refusal (exit 3), not an unexpected error
        raise Cancelled("confirm.refused") from None
    # French users answer o/oui, English ones y/yes; anything else (Enter included) is a no.
    if answer.strip().lower() not in YES_WORDS:
        raise Cancelled("confirm.refused")


def show_dry_run(request: StripeRequest) -> None:
    """The request that would be sent, key-free: method, path, Stripe-Account, Idempotency-Key, form (as the
    gateway encodes and sends it)."""
    console.message(i18n.t("confirm.dry_run"))
    lines = [f"{request.method} {request.path}"]
    if request.stripe_account:
        lines.append(f"Stripe-Account: {request.stripe_account}")
    if request.idempotency_key:
        lines.append(f"Idempotency-Key: {request.idempotency_key}")
    lines.append("Authorization: Bearer sk_…(masquée)")
    for name, value in request.form().items():
        lines.append(f"  {name}={value}")
    for line in lines:
        console.data_line(line)
