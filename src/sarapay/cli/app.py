"""The Typer application and the error boundary every command goes through.

Command modules import `app` (or a sub-Typer) from here and register themselves; nothing here imports
stripe, keyring or sqlite_utils, so `sarapay --help` and TAB completion stay fast.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Optional

import typer
from typer.core import TyperGroup

from sarapay import __version__, i18n
from sarapay.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, SarapayError

PANEL_SUPPORT = "Support"
PANEL_RECONCILE = "Rapprochement"
PANEL_PAYOUTS = "Versements"
PANEL_ADMIN = "Administration"
PANEL_SANDBOX = "Bac à sable"

i18n.register(
    {
        "cli.unexpected": {
            "fr": "Erreur inattendue ({kind}). Relancez avec SARAPAY_DEBUG=1 pour le détail, ou signalez-la à l'équipe sarapay.",
            "en": "Unexpected error ({kind}). Re-run with SARAPAY_DEBUG=1 for details, or report it to the sarapay team.",
        },
        "cli.interrupted": {"fr": "Interrompu.", "en": "Interrupted."},
        "cli.bad_lang": {
            "fr": "Langue inconnue « {value} » : utilisez fr ou en.",
            "en": "Unknown language '{value}': use fr or en.",
        },
        "cli.bad_color": {
            "fr": "Valeur inconnue « {value} » pour --color : utilisez auto, always ou never.",
            "en": "Unknown value '{value}' for --color: use auto, always or never.",
        },
    }
)


@dataclass
class GlobalOptions:
    live: bool = False


def wants_json(args: list[str]) -> bool:
    return "--json" in args or "--nl" in args


class SarapayGroup(TyperGroup):
    """Turns sarapay's errors into one sentence on stderr and the documented exit code.

    The root group also imports command modules on demand (sarapay.cli.load_commands): only the invoked
    command's module on a run, all of them when the command list is needed (help, completion).
    """

    def list_commands(self, ctx):  # type: ignore[override]
        self._adopt(None)
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):  # type: ignore[override]
        if cmd_name not in self.commands:
            self._adopt(cmd_name)
            if cmd_name not in self.commands:
                self._adopt(None)  # not where expected: every module, then Click's own "no such command"
        return super().get_command(ctx, cmd_name)

    def _adopt(self, name: Optional[str]) -> None:
        """Imports the command modules asked for and adds what they registered on `app` to this group."""
        if self.name != app.info.name:
            return  # a sub-group (config, prefs...) is complete when it is built
        import typer.main

        from sarapay.cli import load_commands, registration_order

        load_commands(name)
        infos = sorted(
            [*app.registered_commands, *app.registered_groups],
            key=registration_order,
        )
        commands = {}
        for info in infos:
            if isinstance(info, typer.models.CommandInfo):
                name = info.name or typer.main.get_command_name(info.callback.__name__)
                command = self.commands.get(name) or typer.main.get_command_from_info(
                    info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
                )
            else:
                name = info.name or info.typer_instance.info.name
                command = self.commands.get(name) or typer.main.get_group_from_info(
                    info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode,
                    suggest_commands=app.suggest_commands,
                )
            if command.name:
                commands[command.name] = command
        self.commands = commands

    def invoke(self, ctx):  # type: ignore[override]
        from sarapay import render

        # The words after `sarapay`, before the subcommands consume them (sys.argv is wrong in process).
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except SarapayError as exc:
            if wants_json(words):
                render.error_json(exc.to_json())
            else:
                render.message(exc.message, style="red")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            render.message(i18n.t("cli.interrupted"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if os.environ.get("SARAPAY_DEBUG"):
                raise
            if type(exc).__module__.startswith(("click", "typer")):
                raise
            # No traceback by default: locals could hold a key, and users need one sentence.
            render.message(i18n.t("cli.unexpected", kind=type(exc).__name__), style="red")
            raise typer.Exit(EXIT_UNEXPECTED) from None


app = typer.Typer(
    cls=SarapayGroup,
    name="sarapay",
    help="Paiement en ligne des téléconsultations sur Stripe Connect : empreinte bancaire, capture, versements.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sarapay {__version__}")
        raise typer.Exit(0)


def _lang(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in i18n.LANGS:
        raise typer.BadParameter(i18n.t("cli.bad_lang", value=value))
    i18n.set_lang(value)  # None falls back to SARAPAY_LANG: no language leaks from a previous run
    return value


def _color(value: Optional[str]) -> Optional[str]:
    from sarapay import render

    if value is not None and value not in render.COLOR_MODES:
        raise typer.BadParameter(i18n.t("cli.bad_color", value=value))
    render.set_color(value)  # None: auto, so no choice leaks from a previous run
    return value


@app.callback()
def root(
    ctx: typer.Context,
    lang: Optional[str] = typer.Option(
        None, "--lang", help="Langue des messages : fr (défaut) ou en. Aussi SARAPAY_LANG.", callback=_lang, is_eager=True
    ),
    color: Optional[str] = typer.Option(
        None, "--color", metavar="auto|always|never", callback=_color, is_eager=True,
        help="Couleurs : auto (défaut : sur un terminal, sauf NO_COLOR ou CLICOLOR=0), always ou never.",
    ),
    live: bool = typer.Option(False, "--live", help="Autorise une clé live (sk_live_…). Sans lui, seul le mode test est accepté."),
    version: bool = typer.Option(False, "--version", help="Affiche la version.", callback=_version, is_eager=True),
) -> None:
    ctx.obj = GlobalOptions(live=live)


def global_options(ctx: typer.Context) -> GlobalOptions:
    root_ctx = ctx.find_root()
    return root_ctx.obj if isinstance(root_ctx.obj, GlobalOptions) else GlobalOptions()
