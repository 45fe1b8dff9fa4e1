"""`sarapay ledger`: which ledger this sarapay uses (check), and copying a whole ledger between SQLite and
PostgreSQL (copy), e.g. to move a SQLite ledger into a team's database, or to back a team's database up
into a file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sarapay import i18n
from sarapay.render import console, machine
from sarapay.cli.app import PANEL_ADMIN, app
from sarapay.errors import BadInput

i18n.register(
    {
        "ledger_cmd.label.backend": {"fr": "Registre", "en": "Ledger"},
        "ledger_cmd.label.location": {"fr": "Emplacement", "en": "Location"},
        "ledger_cmd.label.server": {"fr": "Version", "en": "Version"},
        "ledger_cmd.label.schema": {"fr": "Schéma", "en": "Schema"},
        "ledger_cmd.label.pending": {"fr": "Étapes en attente", "en": "Pending steps"},
        "ledger_cmd.value.none": {"fr": "aucune", "en": "none"},
        "ledger_cmd.value.not_created": {"fr": "pas encore créé", "en": "not created yet"},
        "ledger_cmd.value.schema": {"fr": "{version} ({count} étapes sur {total})", "en": "{version} ({count} of {total} steps)"},
        "ledger_cmd.value.pending": {
            "fr": "{steps} (appliquées par la prochaine commande)",
            "en": "{steps} (applied by the next command)",
        },
        "ledger_cmd.copy_same": {
            "fr": "La cible {target} est le registre utilisé : rien à copier.",
            "en": "The target {target} is the ledger in use: nothing to copy.",
        },
        "ledger_cmd.copied": {
            "fr": "Registre copié vers {target} : {rows} dans {tables} tables, nombres de lignes et sommes de "
            "contrôle vérifiés. La source n'a pas changé. Pour l'utiliser : sarapay config set-database {target}",
            "en": "Ledger copied into {target}: {rows} in {tables} tables, row counts and checksums verified. "
            "The source did not change. To use it: sarapay config set-database {target}",
        },
        "ledger_cmd.copied_file": {
            "fr": "Registre copié vers {target} : {rows} dans {tables} tables, nombres de lignes et sommes de "
            "contrôle vérifiés. La source n'a pas changé.",
            "en": "Ledger copied into {target}: {rows} in {tables} tables, row counts and checksums verified. "
            "The source did not change.",
        },
        "ledger_cmd.n_rows": {"fr": "{n} ligne|{n} lignes", "en": "{n} row|{n} rows"},
        "ledger_cmd.col.table": {"fr": "Table", "en": "Table"},
        "ledger_cmd.col.rows": {"fr": "Lignes", "en": "Rows"},
        "ledger_cmd.col.checksum": {"fr": "Somme de contrôle (sha256)", "en": "Checksum (sha256)"},
    }
)

ledger_app = typer.Typer(
    name="ledger",
    help="Le registre : lequel est utilisé (SQLite ou PostgreSQL), son schéma, et sa copie vers un autre.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(ledger_app, name="ledger", rich_help_panel=PANEL_ADMIN)


@ledger_app.command("check", epilog="Exemples : [bold]sarapay ledger check[/] · [bold]sarapay ledger check --json[/]")
def check(
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (adresse masquée)."),
) -> None:
    """Affiche le registre utilisé (fichier SQLite ou PostgreSQL, adresse masquée), la version du schéma et les
    étapes en attente, sans rien créer ni modifier."""
    from sarapay import settings
    from sarapay.ledger.store import inspect_ledger

    info = inspect_ledger(settings.ledger_location())
    if as_json:
        machine.emit_json(info)
        return
    from rich.table import Table

    from sarapay.ledger import schema

    none = i18n.t("ledger_cmd.value.none")
    backend = "PostgreSQL" if info["backend"] == "postgresql" else "SQLite"
    if info["schema_version"]:
        schema_text = i18n.t("ledger_cmd.value.schema", version=info["schema_version"], count=len(info["applied"]),
                             total=len(schema.STEPS))
    else:
        schema_text = i18n.t("ledger_cmd.value.not_created")
    pending = i18n.t("ledger_cmd.value.pending", steps=", ".join(info["pending"])) if info["pending"] else none
    rows = [
        ("ledger_cmd.label.backend", backend),
        ("ledger_cmd.label.location", info["location"]),
        ("ledger_cmd.label.server", f"{backend} {info['server_version']}"),
        ("ledger_cmd.label.schema", schema_text),
        ("ledger_cmd.label.pending", pending),
    ]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(i18n.t(label), str(value))
    console.out().print(table)


@ledger_app.command(
    "copy",
    epilog="Exemples : [bold]sarapay ledger copy --to postgresql://sarapay@db.example/sarapay[/] (vers l'équipe) · "
    "[bold]sarapay ledger copy --to sauvegarde.db[/] (une copie SQLite, depuis PostgreSQL aussi).",
)
def copy(
    to: str = typer.Option(..., "--to", metavar="CIBLE", help="Une adresse postgresql://… (base vide) ou un fichier SQLite à créer."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON : lignes et somme de contrôle par table."),
) -> None:
    """Copie tout le registre utilisé (journal d'audit compris) dans un registre vide, en une transaction,
    puis vérifie chaque table (nombre de lignes, somme de contrôle). La source ne change pas."""
    from sarapay import settings
    from sarapay.ledger import open_ledger, postgres

    source_location = settings.ledger_location()
    if postgres.is_url(to):
        target_spec: str | Path = postgres.check_typed_url(to)
        shown_target = postgres.mask_url(to)
    else:
        target_spec = Path(to).expanduser()
        shown_target = str(target_spec)
    if isinstance(target_spec, Path) and not isinstance(source_location, str):
        if target_spec.exists() and target_spec.resolve() == Path(source_location).resolve():
            raise BadInput("ledger_cmd.copy_same", target=shown_target)
    elif isinstance(source_location, str) and isinstance(target_spec, str):
        if postgres.mask_url(source_location) == shown_target:
            raise BadInput("ledger_cmd.copy_same", target=shown_target)

    created_file = isinstance(target_spec, Path) and not target_spec.exists()
    try:
        # The source is opened as by any command (created or upgraded on first use, like every command does),
        # then only read, in one snapshot.
        with open_ledger(source_location) as source, open_ledger(target_spec) as target:
            digests = source.copy_into(target, audit_target=source.location)
    except BaseException:
        if created_file and isinstance(target_spec, Path):
            for suffix in ("", "-wal", "-shm"):  # nothing half-made that looks like a ledger
                Path(str(target_spec) + suffix).unlink(missing_ok=True)
        raise
    rows = sum(count for count, _ in digests.values())
    if as_json:
        machine.emit_json({
            "source": source.location, "target": shown_target, "rows": rows,
            "tables": {name: {"rows": count, "sha256": digest} for name, (count, digest) in digests.items()},
        })
    else:
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        table.add_column(i18n.t("ledger_cmd.col.table"))
        table.add_column(i18n.t("ledger_cmd.col.rows"), justify="right")
        table.add_column(i18n.t("ledger_cmd.col.checksum"))
        for name, (count, digest) in digests.items():
            table.add_row(name, str(count), digest[:16])
        console.out().print(table)
    key = "ledger_cmd.copied" if isinstance(target_spec, str) else "ledger_cmd.copied_file"
    console.message(i18n.t(key, target=shown_target, rows=i18n.count("ledger_cmd.n_rows", rows), tables=len(digests)))
