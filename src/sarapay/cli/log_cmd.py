"""`sarapay log`: the audit log, newest first (who ran which mutating command, on what, and how it ended)."""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_ADMIN, app, global_options
from sarapay.cli.output import Output, emit_rows, output_flags

i18n.register(
    {
        "log.empty": {"fr": "Le journal d'audit est vide.", "en": "The audit log is empty."},
    }
)

@app.command(
    "log",
    rich_help_panel=PANEL_ADMIN,
    epilog="Exemples : [bold]sarapay log[/] · [bold]sarapay log -n 100 --command capture[/] · "
    "[bold]sarapay log --target TC-8F3K2Q --json[/]",
)
@output_flags()
def log(
    ctx: typer.Context,
    count: int = typer.Option(20, "-n", "--count", min=1, max=100000, metavar="N", help="Nombre d'entrées, les plus récentes d'abord (défaut : 20)."),
    command: Optional[str] = typer.Option(None, "--command", metavar="COMMANDE", help="Seulement cette commande (capture, refund, payouts.schedule…)."),
    target: Optional[str] = typer.Option(None, "--target", metavar="CIBLE", help="Seulement cette cible (TC-…, RPPS)."),
    output: Output = Output.HUMAN,
) -> None:
    """Journal d'audit : quand (heure de Paris), qui, quelle commande, sur quoi, résultat, détail, requête Stripe.

    À l'écran, le détail est dit en mots (« Capture de 20,00 € ») et les colonnes qui n'entrent pas dans le
    terminal (qui, requête Stripe) sont laissées de côté ; --json, --csv et --nl gardent le détail tel
    qu'enregistré."""
    from sarapay.render import console
    from sarapay.render import stream
    from sarapay.render.audit import audit_table
    from sarapay.services import status as service
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        entries = service.iter_audit_entries(services, count, command=command, target=target)
        if output.machine:
            emit_rows(output, (service.audit_row(entry) for entry in entries), service.AUDIT_FIELDS)
            return
        # The first chunk decides: a page keeps the usual table; more entries are streamed (flat memory).
        first, rest = stream.split_first(entries)
        if not first:
            console.message(i18n.t("log.empty"))
            return
        _load_messages()  # the details name message keys registered by every command and service module
        if rest is not None:
            stream.audit_stream(first, rest)
            return
    audit_table(first)


def _load_messages() -> None:
    import importlib
    import pkgutil

    import sarapay.services
    from sarapay.cli import load_commands

    load_commands()
    for module in pkgutil.iter_modules(sarapay.services.__path__):
        importlib.import_module(f"sarapay.services.{module.name}")
