"""The Typer application and the error boundary every command goes through.

Command modules import `app` (or a sub-Typer) from here and register themselves; nothing here imports
stripe, keyring or sqlite_utils, so `sarapay --help` and TAB completion stay fast.
"""

from __future__ import annotations

import os
import sys
import weakref
from dataclasses import dataclass
from typing import Any, Optional

import typer
from typer import _click  # Typer's own copy of Click: the classes its commands, parameters and errors are made of
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.models import CommandInfo, TyperInfo

from sarapay import __version__, i18n
from sarapay.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, SarapayError

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
        # Typer's and Click's own words in help and error panels (built in English): see _localise_typer.
        "cli.help_option": {"fr": "Affiche cette aide et quitte.", "en": "Show this message and exit."},
        "cli.install_completion": {
            "fr": "Installe la complétion (TAB) pour le shell courant.",
            "en": "Install completion for the current shell.",
        },
        "cli.show_completion": {
            "fr": "Affiche le script de complétion du shell courant, à copier ou adapter (voir aussi completions/).",
            "en": "Show completion for the current shell, to copy it or customize the installation.",
        },
        "typer.ARGUMENTS_PANEL_TITLE": {"fr": "Arguments", "en": "Arguments"},
        "typer.OPTIONS_PANEL_TITLE": {"fr": "Options", "en": "Options"},
        "typer.COMMANDS_PANEL_TITLE": {"fr": "Commandes", "en": "Commands"},
        "typer.ERRORS_PANEL_TITLE": {"fr": "Erreur", "en": "Error"},
        "typer.ABORTED_TEXT": {"fr": "Abandonné.", "en": "Aborted."},
        "typer.RICH_HELP": {
            "fr": "Essayez [blue]'{command_path} {help_option}'[/] pour l'aide.",
            "en": "Try [blue]'{command_path} {help_option}'[/] for help.",
        },
        "typer.DEFAULT_STRING": {"fr": "[défaut : {}]", "en": "[default: {}]"},
        "typer.ENVVAR_STRING": {"fr": "[variable d'environnement : {}]", "en": "[env var: {}]"},
        "typer.REQUIRED_LONG_STRING": {"fr": "[obligatoire]", "en": "[required]"},
        "typer.DEPRECATED_STRING": {"fr": "(obsolète) ", "en": "(deprecated) "},
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


# What was already done to Click's objects, once each (commands and options are built once per process).
_LOCALISED_OPTIONS: weakref.WeakSet[TyperOption] = weakref.WeakSet()
_POLISHED: weakref.WeakSet[_click.Command] = weakref.WeakSet()
_HELP_LANG: weakref.WeakKeyDictionary[_click.Command, str] = weakref.WeakKeyDictionary()


def _typer_params(command: _click.Command) -> list[TyperArgument | TyperOption]:
    """The command's parameters: Typer builds them all as TyperArgument or TyperOption."""
    return [param for param in command.params if isinstance(param, (TyperArgument, TyperOption))]


def _localise_typer(command: _click.Command | None = None) -> None:
    """Typer's own texts (panel titles, hints, the --help option...) in the current language, just before
    Typer shows a help page or an error. typer.rich_utils is imported here only: it costs start-up time
    and only the help and error paths need it."""
    import typer.rich_utils as rich_utils

    for key in i18n.catalog():
        if key.startswith("typer."):
            setattr(rich_utils, key.split(".", 1)[1], i18n.t(key))
    if command is not None:
        for param in _typer_params(command):
            if param.name in ("install_completion", "show_completion"):
                param.help = i18n.t(f"cli.{param.name}")


def _wrap_help_option(option: TyperOption | None) -> None:
    """The --help option says its help in the user's language, and shows the page with Typer's texts in it."""
    if option is None or option in _LOCALISED_OPTIONS:
        return
    show_help = option.callback
    assert show_help is not None  # Click's --help option shows the page from its callback

    def localised(ctx: _click.Context, param: _click.Parameter, value: Any) -> Any:
        if value and not ctx.resilient_parsing:
            polish_command(ctx.command)
            _localise_typer(ctx.command)
            option.help = i18n.t("cli.help_option")  # `param` is this option: Click passes a callback its parameter
            for sub in _subcommands(ctx.command):
                _localise_help_option(sub, ctx)
        return show_help(ctx, param, value)

    option.callback = localised
    option.help = i18n.t("cli.help_option")
    option.metavar = ""
    _LOCALISED_OPTIONS.add(option)


def _localise_help_option(command: _click.Command, ctx: _click.Context) -> None:
    """Wraps `command`'s --help option, and its sub-commands' (Click builds them with English text)."""
    _wrap_help_option(command.get_help_option(ctx))
    for sub in _subcommands(command):
        _localise_help_option(sub, ctx)


def _french_usage(exc: _click.ClickException) -> None:
    """Click's parser speaks English only: its usage errors are rewritten for French users (once: an
    instance whose format_message was replaced already speaks French)."""
    if i18n.get_lang() != "fr" or "format_message" in vars(exc):
        return
    from sarapay.cli.usage_fr import to_french

    french = to_french(exc.format_message())
    # The message of this one error, replaced on the instance Click raised (its subclasses build it on demand).
    exc.format_message = lambda: french  # type: ignore[method-assign]


# Value words shown after an option in help (`--at DATE`), by option name; others by type (N, TEXTE).
_OPTION_METAVARS = {
    "--at": "DATE", "--since": "DATE", "--until": "DATE", "--email": "E-MAIL", "--name": "NOM", "--account": "COMPTE",
    "--code": "CODE", "--return-url": "URL", "--success": "URL", "--cancel": "URL", "--max": "MONTANT",
    "--patient-ref": "RÉF", "--port": "PORT", "--latency-ms": "MS", "--lang": "fr|en", "--card": "CARTE",
    "--file": "FICHIER", "--pdf": "FICHIER", "--to": "URL", "--host": "HÔTE",
}


def _reflow(text: Optional[str]) -> Optional[str]:
    """Docstrings are wrapped at 110 characters in the source, and Typer's rich mode keeps their single
    newlines: each paragraph becomes one line (the terminal width decides the wrapping). Blank lines stay
    paragraph breaks; a paragraph starting with \\b, and lines of a list (`- `, `• `), keep their breaks."""
    if not text or "\n" not in text:
        return text
    import inspect

    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not line.lstrip().startswith(("- ", "• ", "* ")):
                lines[-1] = lines[-1].rstrip() + " " + line.strip()
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


# Arguments named in English in the code, shown in French in usage lines.
_ARGUMENT_METAVARS = {"amount": "MONTANT", "duration": "DURÉE", "which": "CHEMIN"}


def _argument_metavar(param: TyperArgument) -> str:
    if param.metavar:
        word = param.metavar.strip("[]{}")
        return word if "|" in word else word.upper()
    return _ARGUMENT_METAVARS.get(param.name or "", (param.name or "").upper())


def _polish_param(param: TyperArgument | TyperOption) -> None:
    """Help columns without Typer's `<str>`/`<bool>`: flags show nothing, values a word (DATE, MONTANT, N…),
    arguments their uppercase name; usage reads `RPPS [MONTANT]`, not `{rpps} [[MONTANT]]`."""
    param.help = _reflow(param.help)
    if isinstance(param, TyperArgument):
        param.metavar = _argument_metavar(param)
        dots = "..." if param.nargs != 1 else ""
        # Typer's display methods replaced on this parameter only (mypy forbids assigning to a method).
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # the name column already says it
        # Read at display time: the word follows the help's language (_help_in_language swaps it).
        param._usage_display_name = (  # type: ignore[method-assign]
            (lambda: f"{param.metavar}{dots}") if param.required else (lambda: f"[{param.metavar}]{dots}")
        )
        return
    if param.is_flag or param.count:
        param.metavar = ""
    elif param.metavar is None:
        long = next((opt for opt in param.opts if opt.startswith("--")), "")
        descriptor = getattr(param, "type_descriptor", None)  # not in every Typer pyproject.toml allows (0.26 has none)
        number = getattr(descriptor, "annotation", None) in (int, float)
        param.metavar = _OPTION_METAVARS.get(long) or ("N" if number else "TEXTE")


def polish_command(command: _click.Command | None) -> None:
    """Once per built command (and, for a group, its sub-commands): reflowed help texts and readable
    metavars. Called where commands are built (SarapayGroup), so new command modules get it for free."""
    if command is None:
        return
    if command not in _POLISHED:
        _POLISHED.add(command)
        command.help = _reflow(command.help)
        command.epilog = _reflow(command.epilog)
        if command.short_help:
            command.short_help = _reflow(command.short_help)
        for param in _typer_params(command):
            _polish_param(param)
    _help_in_language(command)
    for sub in _subcommands(command):
        polish_command(sub)


# Help texts with an English twin (src/sarapay/cli/help_en.py): on the command, and on each parameter.
_COMMAND_TEXTS = ("help", "short_help", "epilog", "rich_help_panel")
_PARAM_TEXTS = ("help", "rich_help_panel", "metavar")
def _subcommands(command: _click.Command) -> list[_click.Command]:
    """A group's commands; none for a plain command."""
    return list(command.commands.values()) if isinstance(command, TyperGroup) else []


def _english(name: str, text: str) -> str:
    from sarapay.cli.help_en import english  # only in English: French start-up does not pay for it

    return english(name, text)


def _help_in_language(command: _click.Command) -> None:
    """The help of `command` in the current language: written in French, in English from help_en.HELP_EN
    (imported only then, so French start-up does not pay for it). The French texts are kept on the command,
    so one process can show both (the tests run many commands in one process)."""
    lang = i18n.get_lang()
    if _HELP_LANG.get(command, "fr") == lang:
        return
    targets: list[tuple[object, tuple[str, ...]]] = [(command, _COMMAND_TEXTS)] + [
        (param, _PARAM_TEXTS) for param in command.params if param.name not in ("install_completion", "show_completion")
    ]
    for target, names in targets:
        french = target.__dict__.setdefault("_sarapay_help_fr", {})
        for name in names:
            if name not in french:
                french[name] = getattr(target, name, None)
            text = french[name]
            setattr(target, name, _english(name, text) if lang == "en" and text else text)
    _HELP_LANG[command] = lang


def _language_before_help(group: _click.Command, args: list[str]) -> None:
    """`sarapay --help --lang en`: Click runs eager options in the order they are typed, so the help would
    be shown before --lang is read. The language is taken from the root options first (a wrong value is
    left to --lang's own check)."""
    taking_value = {opt for param in group.params if not getattr(param, "is_flag", True) for opt in param.opts}
    i18n.set_lang(None)  # SARAPAY_LANG or French: nothing kept from a previous run in the same process
    words = list(args)
    i = 0
    while i < len(words) and words[i] != "--" and words[i].startswith("-"):
        word = words[i]
        if word == "--lang" and i + 1 < len(words) or word.startswith("--lang="):
            value = words[i + 1] if word == "--lang" else word.partition("=")[2]
            if value in i18n.LANGS:
                i18n.set_lang(value)
            return
        i += 2 if word in taking_value else 1
    # the command's own arguments start here: --lang after them is not a root option


class SarapayGroup(TyperGroup):
    """Turns sarapay's errors into one sentence on stderr and the documented exit code.

    The root group also imports command modules on demand (sarapay.cli.load_commands): only the invoked
    command's module on a run, all of them when the command list is needed (help, completion).
    """

    def list_commands(self, ctx: _click.Context) -> list[str]:
        self._adopt(None)
        return super().list_commands(ctx)

    def get_help_option(self, ctx: _click.Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        _wrap_help_option(option)
        return option

    def make_context(
        self, info_name: str | None, args: list[str], parent: _click.Context | None = None, **extra: Any
    ) -> _click.Context:
        if self.name == app.info.name:
            _language_before_help(self, args)
            polish_command(self)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _click.ClickException as exc:
            _localise_typer(self)  # Typer is about to show the error in its panel
            _french_usage(exc)
            raise

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in self.commands:
            self._adopt(cmd_name)
            if cmd_name not in self.commands:
                self._adopt(None)  # not where expected: every module, then Click's own "no such command"
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            polish_command(command)
            _localise_help_option(command, ctx)
        return command

    def _adopt(self, name: Optional[str]) -> None:
        """Imports the command modules asked for and adds what they registered on `app` to this group."""
        if self.name != app.info.name:
            return  # a sub-group (config, prefs...) is complete when it is built
        import typer.main

        from sarapay.cli import load_commands, registration_order

        load_commands(name)
        infos: list[CommandInfo | TyperInfo] = sorted(
            [*app.registered_commands, *app.registered_groups],
            key=registration_order,
        )
        commands: dict[str, _click.Command] = {}
        for info in infos:
            command: _click.Command
            if isinstance(info, CommandInfo):
                assert info.callback is not None  # @app.command() always has its function
                name = info.name or typer.main.get_command_name(info.callback.__name__)
                command = self.commands.get(name) or typer.main.get_command_from_info(
                    info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
                )
            else:
                assert info.typer_instance is not None  # app.add_typer() always has its sub-Typer
                name = info.name or info.typer_instance.info.name
                command = (self.commands.get(name) if name else None) or typer.main.get_group_from_info(
                    info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode,
                    suggest_commands=app.suggest_commands,
                )
            if command.name:
                commands[command.name] = command
        self.commands = commands

    def invoke(self, ctx: _click.Context) -> Any:
        from sarapay.render import console, machine

        # The words after `sarapay`, before the subcommands consume them (sys.argv is wrong in process).
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except SarapayError as exc:
            if wants_json(words):
                machine.error_json(exc.to_json())
            else:
                console.message(exc.message, style="red")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.message(i18n.t("cli.interrupted"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`sarapay status | head`): nothing more to say, as a Unix tool stops quietly.
            # stdout is pointed at /dev/null so the interpreter's last flush does not fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_OK) from None
        except _click.ClickException as exc:
            _localise_typer()  # a sub-command's usage error, shown by Typer in its panel
            _french_usage(exc)
            raise
        except Exception as exc:
            if os.environ.get("SARAPAY_DEBUG"):
                raise
            if type(exc).__module__.startswith(("click", "typer")):
                raise
            # No traceback by default: locals could hold a key, and users need one sentence.
            console.message(i18n.t("cli.unexpected", kind=type(exc).__name__), style="red")
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
    from sarapay.render import console

    if value is not None and value not in console.COLOR_MODES:
        raise typer.BadParameter(i18n.t("cli.bad_color", value=value))
    console.set_color(value)  # None: auto, so no choice leaks from a previous run
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
