"""`sarapay config`: the Stripe secret key, the Connect client id, the API address, and where files live.

The key is never an argument (it would land in the shell history and in `ps`): it is typed hidden on a
terminal or read from stdin with `--stdin`, and only its masked form is ever printed.
"""

from __future__ import annotations

import sys
from typing import NotRequired, Optional, TypedDict

import typer

from sarapay import i18n
from sarapay.render import console, machine
from sarapay.cli.app import PANEL_ADMIN, app, global_options
from sarapay.errors import BadInput, SarapayError

i18n.register(
    {
        "config.prompt_key": {"fr": "Clé secrète Stripe (sk_test_… ; la saisie est masquée)", "en": "Stripe secret key (sk_test_…; input is hidden)"},
        "config.no_tty": {
            "fr": "Pas de terminal pour saisir la clé : passez-la sur l'entrée standard avec --stdin "
            "(par exemple : sarapay config set-key --stdin < fichier).",
            "en": "No terminal to type the key: pass it on standard input with --stdin (for example: sarapay config set-key --stdin < file).",
        },
        "config.key_as_argument": {
            "fr": "La clé ne se passe jamais en argument : elle resterait dans l'historique du shell et visible dans la liste des processus. "
            "Utilisez la saisie masquée ou --stdin, et si c'était une vraie clé, pensez à la renouveler (roll) dans le tableau de bord Stripe.",
            "en": "The key is never passed as an argument: it would stay in the shell history and be visible in the process list. "
            "Use the hidden prompt or --stdin, and if it was a real key, consider rolling it in the Stripe Dashboard.",
        },
        "config.empty_key": {"fr": "Aucune clé saisie.", "en": "No key entered."},
        "config.live_needs_flag": {
            "fr": "La clé {masked} est une clé live : ajoutez --live (sarapay --live config set-key) pour l'enregistrer.",
            "en": "The key {masked} is a live key: add --live (sarapay --live config set-key) to store it.",
        },
        "config.key_stored_keyring": {
            "fr": "Clé {masked} (mode {mode}) enregistrée dans le trousseau du système.",
            "en": "Key {masked} ({mode} mode) stored in the OS keyring.",
        },
        "config.key_stored_file": {
            "fr": "Clé {masked} (mode {mode}) enregistrée dans {path} (mode 0600).",
            "en": "Key {masked} ({mode} mode) stored in {path} (mode 0600).",
        },
        "config.key_shadowed": {
            "fr": "Attention : {source} est prioritaire et reste utilisée tant qu'elle est présente.",
            "en": "Warning: {source} takes precedence and stays in use while it is present.",
        },
        "config.client_id_set": {"fr": "Identifiant client Connect : {value} (dans {path}).", "en": "Connect client id: {value} (in {path})."},
        "config.api_base_set": {"fr": "Adresse de l'API Stripe : {value} (dans {path}).", "en": "Stripe API address: {value} (in {path})."},
        "config.api_base_reset": {
            "fr": "Adresse de l'API remise à celle de Stripe (api.stripe.com).",
            "en": "API address reset to Stripe's (api.stripe.com).",
        },
        "config.return_url_set": {"fr": "Adresse de retour : {value} (dans {path}).", "en": "Return address: {value} (in {path})."},
        "config.return_urls_needs_value": {
            "fr": "Donnez au moins une adresse : --success URL et/ou --cancel URL.",
            "en": "Give at least one address: --success URL and/or --cancel URL.",
        },
        "config.api_base_needs_value": {
            "fr": "Donnez une adresse (ex. http://127.0.0.1:12111) ou --reset.",
            "en": "Give an address (e.g. http://127.0.0.1:12111) or --reset.",
        },
        "config.env_overrides": {
            "fr": "Attention : la variable {name} est définie et prime sur ce réglage.",
            "en": "Warning: the {name} variable is set and overrides this setting.",
        },
        "config.unknown_path": {
            "fr": "Chemin inconnu « {value} » : config, key-file, ledger ou home.",
            "en": "Unknown path '{value}': config, key-file, ledger or home.",
        },
        "config.database_set": {
            "fr": "Registre d'équipe : {url} (dans {path}). Vérifiez-le avec « sarapay ledger check » ; "
            "pour y copier le registre local : « sarapay ledger copy --to {url} » (avant ce réglage).",
            "en": "Team ledger: {url} (in {path}). Check it with `sarapay ledger check`; to copy the local ledger "
            "into it: `sarapay ledger copy --to {url}` (before this setting).",
        },
        "config.database_reset": {
            "fr": "Registre : de nouveau le fichier SQLite local ({path}).",
            "en": "Ledger: back to the local SQLite file ({path}).",
        },
        "config.database_needs_value": {
            "fr": "Donnez une adresse postgresql://utilisateur@hôte:port/base, ou --reset.",
            "en": "Give a postgresql://user@host:port/database address, or --reset.",
        },
        "config.database_password_prompt": {"fr": "Mot de passe PostgreSQL (saisie masquée)", "en": "PostgreSQL password (hidden input)"},
        "config.database_password_stored": {
            "fr": "Mot de passe de {url} enregistré dans le trousseau du système.",
            "en": "Password of {url} stored in the OS keyring.",
        },
        "config.database_password_no_tty": {
            "fr": "Pas de terminal pour saisir le mot de passe : passez-le sur l'entrée standard avec --stdin.",
            "en": "No terminal to type the password: pass it on standard input with --stdin.",
        },
        "config.label.database": {"fr": "Registre", "en": "Ledger"},
        "config.value.sqlite": {"fr": "SQLite (fichier local)", "en": "SQLite (local file)"},
        "config.smtp_set": {
            "fr": "Serveur d'envoi des rappels : {server} ({tls}), identifiant {user}, expéditeur {sender} (dans {path}).",
            "en": "Reminder mail server: {server} ({tls}), user {user}, sender {sender} (in {path}).",
        },
        "config.smtp_tls_on": {"fr": "chiffré par STARTTLS", "en": "encrypted with STARTTLS"},
        "config.smtp_tls_off": {"fr": "sans chiffrement, serveur local", "en": "no encryption, local server"},
        "config.smtp_password_stored": {
            "fr": "Mot de passe SMTP de {user} enregistré dans le trousseau du système.",
            "en": "SMTP password of {user} stored in the OS keyring.",
        },
        "config.smtp_password_hint": {
            "fr": "Le mot de passe de {user} sera lu dans la variable SARAPAY_SMTP_PASSWORD, sinon dans le trousseau du "
            "système (« sarapay config set-smtp … --user {user} --password » l'y enregistre).",
            "en": "The password of {user} will be read from the SARAPAY_SMTP_PASSWORD variable, else from the OS keyring "
            "('sarapay config set-smtp … --user {user} --password' stores it there).",
        },
        "config.smtp_no_from": {
            "fr": "Aucune adresse d'expéditeur : ajoutez --from ADRESSE, sans elle aucun rappel ne part.",
            "en": "No sender address: add --from ADDRESS, no reminder is sent without it.",
        },
        "config.smtp_password_needs_user": {
            "fr": "Un mot de passe SMTP va avec un identifiant : ajoutez --user IDENTIFIANT.",
            "en": "An SMTP password goes with a user: add --user USER.",
        },
        "config.smtp_password_as_argument": {
            "fr": "Le mot de passe SMTP ne se passe jamais en argument : il resterait dans l'historique du shell et visible "
            "dans la liste des processus. Utilisez --password (saisie masquée), --password-stdin, ou la variable "
            "SARAPAY_SMTP_PASSWORD ; si c'était le vrai mot de passe, changez-le.",
            "en": "The SMTP password is never passed as an argument: it would stay in the shell history and be visible "
            "in the process list. Use --password (hidden prompt), --password-stdin, or the SARAPAY_SMTP_PASSWORD "
            "variable; if it was the real password, change it.",
        },
        "config.smtp_prompt": {"fr": "Mot de passe SMTP de {user} (la saisie est masquée)", "en": "SMTP password of {user} (input is hidden)"},
        "config.smtp_no_tty": {
            "fr": "Pas de terminal pour saisir le mot de passe : passez-le sur l'entrée standard avec --password-stdin.",
            "en": "No terminal to type the password: pass it on standard input with --password-stdin.",
        },
        "config.smtp_empty_password": {"fr": "Aucun mot de passe saisi.", "en": "No password entered."},
        "config.label.smtp": {"fr": "Serveur d'envoi (rappels)", "en": "Mail server (reminders)"},
        "config.label.smtp_user": {"fr": "Identifiant SMTP", "en": "SMTP user"},
        "config.label.smtp_from": {"fr": "Expéditeur des rappels", "en": "Reminders sender"},
        "config.label.smtp_password": {"fr": "Mot de passe SMTP", "en": "SMTP password"},
        "config.value.smtp_password_missing": {
            "fr": "introuvable (trousseau ou SARAPAY_SMTP_PASSWORD)",
            "en": "not found (keyring or SARAPAY_SMTP_PASSWORD)",
        },
        "config.label.mode": {"fr": "Mode", "en": "Mode"},
        "config.label.key": {"fr": "Clé secrète", "en": "Secret key"},
        "config.label.key_source": {"fr": "Provenance de la clé", "en": "Key source"},
        "config.label.key_problem": {"fr": "Problème de clé", "en": "Key problem"},
        "config.label.client_id": {"fr": "Identifiant client Connect", "en": "Connect client id"},
        "config.label.api_base": {"fr": "Adresse de l'API", "en": "API address"},
        "config.label.config_file": {"fr": "Fichier de configuration", "en": "Configuration file"},
        "config.label.key_file": {"fr": "Fichier de clé", "en": "Key file"},
        "config.label.ledger": {"fr": "Registre local", "en": "Local ledger"},
        "config.label.lang": {"fr": "Langue", "en": "Language"},
        # One word for every setting (a key, an id, a server...): no gender to agree with.
        "config.value.none": {"fr": "à régler", "en": "not set"},
        "config.value.stripe": {"fr": "Stripe (api.stripe.com)", "en": "Stripe (api.stripe.com)"},
        "config.value.from_env": {"fr": "{value} (variable {name})", "en": "{value} ({name} variable)"},
        "config.value.mode_test": {"fr": "test", "en": "test"},
        "config.value.mode_live": {"fr": "LIVE (réel)", "en": "LIVE"},
    }
)

config_app = typer.Typer(
    name="config",
    help="Réglages : clé secrète Stripe, identifiant client Connect, adresse de l'API, serveur d'envoi des rappels, "
    "emplacement des fichiers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(config_app, name="config", rich_help_panel=PANEL_ADMIN)


def _read_key(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
    elif sys.stdin.isatty():
        line = typer.prompt(i18n.t("config.prompt_key"), hide_input=True, err=True)
    else:
        raise BadInput("config.no_tty")
    value = (line or "").strip()
    if not value:
        raise BadInput("config.empty_key")
    return value


@config_app.command(
    "set-key",
    # Extra arguments are accepted by the parser only to refuse a key typed on the command line.
    context_settings={"allow_extra_args": True},
    epilog="Exemples : [bold]sarapay config set-key[/] (saisie masquée, trousseau du système) · "
    "[bold]sarapay config set-key --file --stdin < cle.txt[/] (serveur, cron : fichier 0600).",
)
def set_key(
    ctx: typer.Context,
    stdin: bool = typer.Option(False, "--stdin", help="Lit la clé sur une ligne de l'entrée standard (sans terminal)."),
    to_file: bool = typer.Option(
        False, "--file", help="Enregistre la clé dans un fichier 0600 (SARAPAY_KEY_FILE ou le fichier par défaut) plutôt que dans le trousseau."
    ),
) -> None:
    """Enregistre la clé secrète Stripe de la plateforme (jamais en argument : saisie masquée ou --stdin)."""
    from sarapay import credentials

    if ctx.args:  # refused without echoing it back, as click's usage error would
        raise BadInput("config.key_as_argument")
    live = global_options(ctx).live
    key = credentials.check_key_format(_read_key(stdin), "input", error=BadInput)
    if key.is_live and not live:
        raise BadInput("config.live_needs_flag", masked=key.masked)
    credentials.check_mode(key, live=live)
    if to_file:
        path = credentials.write_key_file(key)
        console.message(i18n.t("config.key_stored_file", masked=key.masked, mode=key.mode, path=str(path)))
    else:
        credentials.store_in_keyring(key)
        console.message(i18n.t("config.key_stored_keyring", masked=key.masked, mode=key.mode))
    # Say so when a source higher in the lookup order will still win.
    import os

    if os.environ.get(credentials.ENV_KEY, "").strip():
        console.warn(i18n.t("config.key_shadowed", source=i18n.t("settings.source.env")))
    elif not to_file and credentials.key_file_path().is_file():
        console.warn(i18n.t("config.key_shadowed", source=i18n.t("settings.source.file", path=str(credentials.key_file_path()))))


@config_app.command(
    "set-client-id",
    epilog="Exemple : [bold]sarapay config set-client-id ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7[/]",
)
def set_client_id(
    client_id: str = typer.Argument(..., metavar="CA", help="Identifiant client Connect de la plateforme (ca_…)."),
) -> None:
    """Enregistre l'identifiant client Connect (ca_…) utilisé pour lier les praticiens par OAuth."""
    import os

    from sarapay import settings

    value = settings.check_client_id(client_id)
    path = settings.set_config_value("client_id", value)
    console.message(i18n.t("config.client_id_set", value=value, path=str(path)))
    if os.environ.get(settings.ENV_CLIENT_ID, "").strip():
        console.warn(i18n.t("config.env_overrides", name=settings.ENV_CLIENT_ID))


@config_app.command(
    "set-return-urls",
    epilog="Exemple : [bold]sarapay config set-return-urls --success https://portail.example.fr/paiement/merci "
    "--cancel https://portail.example.fr/paiement/annule[/]",
)
def set_return_urls(
    success: Optional[str] = typer.Option(None, "--success", help="Page affichée au patient après son empreinte bancaire."),
    cancel: Optional[str] = typer.Option(None, "--cancel", help="Page affichée si le patient revient en arrière."),
) -> None:
    """Règle les pages du portail où Stripe renvoie le patient après la page de paiement."""
    from sarapay import settings

    if not success and not cancel:
        raise BadInput("config.return_urls_needs_value")
    for name, value in (("success_url", success), ("cancel_url", cancel)):
        if value:
            path = settings.set_config_value(name, settings.check_return_url(value))
            console.message(i18n.t("config.return_url_set", value=value, path=str(path)))


@config_app.command(
    "set-api-base",
    epilog="Exemples : [bold]sarapay config set-api-base http://127.0.0.1:12111[/] (bac à sable local) · "
    "[bold]sarapay config set-api-base --reset[/] (retour à Stripe).",
)
def set_api_base(
    url: Optional[str] = typer.Argument(None, metavar="URL", help="Adresse de base, ex. http://127.0.0.1:12111 (sans /v1)."),
    reset: bool = typer.Option(False, "--reset", help="Revient à l'API de Stripe."),
) -> None:
    """Fait parler sarapay à un autre serveur que Stripe, typiquement le bac à sable local."""
    import os

    from sarapay import settings

    if reset:
        settings.set_config_value("api_base", None)
        console.message(i18n.t("config.api_base_reset"))
    elif url:
        value = settings.check_api_base(url)
        path = settings.set_config_value("api_base", value)
        console.message(i18n.t("config.api_base_set", value=value, path=str(path)))
    else:
        raise BadInput("config.api_base_needs_value")
    if os.environ.get(settings.ENV_API_BASE, "").strip():
        console.warn(i18n.t("config.env_overrides", name=settings.ENV_API_BASE))


@config_app.command(
    "set-database",
    epilog="Exemples : [bold]sarapay config set-database postgresql://sarapay@db.example:5432/sarapay[/] · "
    "[bold]sarapay config set-database --reset[/] (retour au fichier SQLite). Le mot de passe : --password "
    "(saisie masquée, gardé dans le trousseau), ou PGPASSWORD, ou ~/.pgpass.",
)
def set_database(
    url: Optional[str] = typer.Argument(None, metavar="URL", help="postgresql://utilisateur@hôte:port/base, sans mot de passe."),
    password: bool = typer.Option(False, "--password", help="Demande le mot de passe (saisie masquée) et le garde dans le trousseau."),
    stdin: bool = typer.Option(False, "--stdin", help="Avec --password : lit le mot de passe sur l'entrée standard."),
    reset: bool = typer.Option(False, "--reset", help="Revient au registre SQLite local."),
) -> None:
    """Partage le registre d'une équipe sur PostgreSQL (le mot de passe : trousseau, PGPASSWORD ou ~/.pgpass)."""
    import os

    from sarapay import credentials, settings
    from sarapay.ledger import postgres

    if reset:
        settings.set_config_value("database_url", None)
        console.message(i18n.t("config.database_reset", path=str(settings.ledger_path())))
        return
    if not url:
        raise BadInput("config.database_needs_value")
    masked = postgres.mask_url(url)
    value = postgres.check_typed_url(url)
    if password:
        if stdin:
            secret = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            secret = typer.prompt(i18n.t("config.database_password_prompt"), hide_input=True, err=True)
        else:
            raise BadInput("config.database_password_no_tty")
        credentials.store_database_password(masked, secret)
        console.message(i18n.t("config.database_password_stored", url=masked))
    path = settings.set_config_value("database_url", value)
    console.message(i18n.t("config.database_set", url=masked, path=str(path)))
    if os.environ.get(settings.ENV_DATABASE_URL, "").strip():
        console.warn(i18n.t("config.env_overrides", name=settings.ENV_DATABASE_URL))
def _read_smtp_password(from_stdin: bool, user: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
    elif sys.stdin.isatty():
        line = typer.prompt(i18n.t("config.smtp_prompt", user=user), hide_input=True, err=True)
    else:
        raise BadInput("config.smtp_no_tty")
    value = (line or "").rstrip("\r\n")
    if not value.strip():
        raise BadInput("config.smtp_empty_password")
    return value


@config_app.command(
    "set-smtp",
    # Extra arguments are accepted by the parser only to refuse a password typed on the command line.
    context_settings={"allow_extra_args": True},
    epilog="Exemples : [bold]sarapay config set-smtp smtp.example.fr:587 --user rappels@example.fr "
    "--from rappels@example.fr --password[/] (saisie masquée, trousseau) · cron : [bold]sarapay config set-smtp "
    "smtp.example.fr --user rappels@example.fr --from rappels@example.fr[/] (avec SARAPAY_SMTP_PASSWORD dans "
    "l'environnement) · relais local : [bold]sarapay config set-smtp 127.0.0.1:25 --no-starttls --from rappels@example.fr[/]",
)
def set_smtp(
    ctx: typer.Context,
    server: str = typer.Argument(..., metavar="HÔTE[:PORT]", help="Serveur d'envoi (port 587 par défaut)."),
    user: Optional[str] = typer.Option(None, "--user", metavar="IDENTIFIANT", help="Identifiant de connexion (sans lui : pas d'authentification)."),
    starttls: bool = typer.Option(
        True, "--starttls/--no-starttls",
        help="Chiffre la connexion (STARTTLS, par défaut). --no-starttls seulement pour un relais sur cette machine.",
    ),
    sender: Optional[str] = typer.Option(None, "--from", metavar="ADRESSE", help="Adresse d'expéditeur des rappels (gardée si omise)."),
    password: bool = typer.Option(False, "--password", help="Demande le mot de passe (saisie masquée) et l'enregistre dans le trousseau."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Lit le mot de passe sur une ligne de l'entrée standard et l'enregistre dans le trousseau.",
    ),
) -> None:
    """Règle le serveur d'envoi des rappels aux praticiens (sarapay remind). Le mot de passe ne passe jamais en
    argument : trousseau du système (--password) ou variable SARAPAY_SMTP_PASSWORD."""
    import os

    from sarapay import credentials, settings
    from sarapay.emails import normalize_email

    if ctx.args:  # refused without echoing it back, as click's usage error would
        raise BadInput("config.smtp_password_as_argument")
    host, port = settings.parse_smtp_server(server)
    login = settings.check_smtp_user(user) if user is not None else None
    previous = settings.load_smtp()
    chosen = settings.SmtpSettings(
        host=host, port=port or settings.DEFAULT_SMTP_PORT, starttls=starttls, user=login,
        sender=normalize_email(sender) if sender is not None else previous.sender,
    )
    settings.check_smtp_login_safe(chosen, error=BadInput)
    if (password or password_stdin) and not login:
        raise BadInput("config.smtp_password_needs_user")
    if password or password_stdin:
        # Stored before the settings: if the keyring refuses, nothing has changed.
        credentials.store_smtp_password(_read_smtp_password(password_stdin, login or ""))
    path = settings.save_smtp(chosen)
    none = i18n.t("config.value.none")
    console.message(
        i18n.t(
            "config.smtp_set", server=chosen.address, tls=i18n.t("config.smtp_tls_on" if starttls else "config.smtp_tls_off"),
            user=login or none, sender=chosen.sender or none, path=str(path),
        )
    )
    if password or password_stdin:
        console.message(i18n.t("config.smtp_password_stored", user=login))
    elif login and not os.environ.get(credentials.ENV_SMTP_PASSWORD, "").strip():
        console.message(i18n.t("config.smtp_password_hint", user=login))
    if not chosen.sender:
        console.warn(i18n.t("config.smtp_no_from"))


class Problem(TypedDict):
    """A configuration problem in `config show --json`: its message key and its sentence."""

    code: str
    message: str


# The mail settings in `config show --json` ("from" is a Python keyword, hence this form).
SmtpDescription = TypedDict(
    "SmtpDescription",
    {
        "host": str | None, "port": int | None, "starttls": bool | None, "user": str | None, "from": str | None,
        "password_source": str | None, "problem": Problem | None,
    },
)


class ConfigDescription(TypedDict):
    """`config show --json`: the effective configuration (keys in this order, the secret key masked)."""

    mode: str
    key: str | None
    key_mode: str | None
    key_source: str | None
    key_file_path: str
    key_problem: Problem | None
    client_id: str | None
    client_id_source: str | None
    api_base: str | None
    api_base_source: str | None
    config_path: str
    ledger_path: str
    ledger_backend: str
    database_url: str | None
    database_source: str | None
    lang: str
    config_problem: NotRequired[Problem]
    smtp: NotRequired[SmtpDescription | None]  # always set, last


def _describe_smtp() -> SmtpDescription:
    """The mail server settings, and where the password would come from (never the password)."""
    import os

    from sarapay import credentials, settings

    smtp = settings.load_smtp()
    info: SmtpDescription = {
        "host": smtp.host, "port": smtp.port if smtp.host else None, "starttls": smtp.starttls if smtp.host else None,
        "user": smtp.user, "from": smtp.sender, "password_source": None, "problem": None,
    }
    missing = smtp.missing()
    if smtp.host is None and smtp.sender is None:
        return info  # never configured: nothing to report as a problem
    if missing:
        info["problem"] = {"code": "settings.smtp_incomplete",
                           "message": i18n.t("settings.smtp_incomplete", missing=", ".join(i18n.t(k) for k in missing))}
    if smtp.user:
        if os.environ.get(credentials.ENV_SMTP_PASSWORD, "").strip():
            info["password_source"] = "env"
        else:
            try:
                found = credentials.find_smtp_password()
            except SarapayError as exc:
                info["problem"] = info["problem"] or {"code": exc.key, "message": exc.message}
            else:
                info["password_source"] = found.source if found else None
                if found is None and not info["problem"]:
                    info["problem"] = {"code": "settings.smtp_no_password",
                                       "message": i18n.t("config.value.smtp_password_missing")}
    return info


def _describe(ctx: typer.Context) -> ConfigDescription:
    """The effective configuration, as data. Never raises for a key problem: it reports it."""
    from sarapay import credentials, settings

    live = global_options(ctx).live
    info: ConfigDescription = {
        "mode": "live" if live else "test",
        "key": None,
        "key_mode": None,
        "key_source": None,
        "key_file_path": str(credentials.key_file_path()),
        "key_problem": None,
        "client_id": None,
        "client_id_source": None,
        "api_base": None,
        "api_base_source": None,
        "config_path": str(settings.config_path()),
        "ledger_path": str(settings.ledger_path()),
        "ledger_backend": "sqlite",
        "database_url": None,  # masked: a password in SARAPAY_DATABASE_URL is never shown
        "database_source": None,
        "lang": i18n.get_lang(),
    }
    try:
        url, source = settings.database_url()
    except SarapayError as exc:
        url, source = None, None
        info["config_problem"] = {"code": exc.key, "message": exc.message}
    if url:
        from sarapay.ledger.postgres import mask_url

        info.update({"ledger_backend": "postgresql", "database_url": mask_url(url), "database_source": source})
    try:
        key = credentials.find_key()
        if key is None:
            raise SarapayError("settings.no_key", path=str(credentials.key_file_path()))
        info.update({"key": key.masked, "key_mode": key.mode, "key_source": key.source})
        credentials.check_mode(key, live=live)
    except SarapayError as exc:
        info["key_problem"] = {"code": exc.key, "message": exc.message}
    try:
        config = settings.load_config()
        info.update(
            {
                "client_id": config.client_id,
                "client_id_source": config.client_id_source,
                "api_base": config.api_base,
                "api_base_source": config.api_base_source,
            }
        )
    except SarapayError as exc:
        info["config_problem"] = {"code": exc.key, "message": exc.message}
    try:
        info["smtp"] = _describe_smtp()
    except SarapayError as exc:
        info["smtp"] = None
        info.setdefault("config_problem", {"code": exc.key, "message": exc.message})
    return info


@config_app.command("show", epilog="Exemples : [bold]sarapay config show[/] · [bold]sarapay --live config show --json[/]")
def show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (clés stables, clé secrète masquée)."),
) -> None:
    """Affiche le mode, la clé masquée et sa provenance, l'identifiant client, l'adresse de l'API et les chemins."""
    info = _describe(ctx)
    if as_json:
        machine.emit_json(info)
        return
    from rich.table import Table

    from sarapay import credentials, settings

    none = i18n.t("config.value.none")

    def sourced(value: str | None, source: str | None, env_name: str) -> str:
        if not value:
            return none
        return i18n.t("config.value.from_env", value=value, name=env_name) if source == "env" else value

    source_text = credentials.describe_source(info["key_source"], info["key_file_path"]) if info["key_source"] else none
    rows: list[tuple[str, str]] = [
        ("config.label.mode", i18n.t(f"config.value.mode_{info['mode']}")),
        ("config.label.key", info["key"] or none),
        ("config.label.key_source", source_text),
    ]
    if info["key_problem"]:
        rows.append(("config.label.key_problem", info["key_problem"]["message"]))
    rows += [
        ("config.label.client_id", sourced(info["client_id"], info["client_id_source"], settings.ENV_CLIENT_ID)),
        (
            "config.label.api_base",
            sourced(info["api_base"], info["api_base_source"], settings.ENV_API_BASE) if info["api_base"] else i18n.t("config.value.stripe"),
        ),
    ]
    smtp = info.get("smtp")
    if smtp and (smtp["host"] or smtp["from"]):
        server = none
        if smtp["host"]:
            port = smtp["port"]
            assert port is not None  # described with the host
            address = settings.SmtpSettings(host=smtp["host"], port=port).address
            server = f"{address} (" + i18n.t("config.smtp_tls_on" if smtp["starttls"] else "config.smtp_tls_off") + ")"
        rows += [("config.label.smtp", server), ("config.label.smtp_from", smtp["from"] or none)]
        if smtp["user"]:
            source = credentials.describe_smtp_password_source(smtp["password_source"]) if smtp["password_source"] else none
            rows += [("config.label.smtp_user", smtp["user"]), ("config.label.smtp_password", source)]
    else:
        rows.append(("config.label.smtp", none))
    rows += [
        ("config.label.config_file", info["config_path"]),
        ("config.label.key_file", info["key_file_path"]),
        (
            "config.label.database",
            sourced(info["database_url"], info["database_source"], settings.ENV_DATABASE_URL)
            if info["database_url"] else i18n.t("config.value.sqlite"),
        ),
        ("config.label.ledger", info["ledger_path"]),
        ("config.label.lang", info["lang"]),
    ]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(i18n.t(label), str(value))
    console.out().print(table)
    config_problem = info.get("config_problem")
    if config_problem:
        console.warn(config_problem["message"])
    if smtp and smtp["problem"]:
        console.warn(smtp["problem"]["message"])


@config_app.command(
    "path",
    epilog="Exemples : [bold]sarapay config path[/] · [bold]sarapay config path ledger[/] · "
    "[bold]cp \"$(sarapay config path ledger)\" sauvegarde.db[/]",
)
def path(
    which: str = typer.Argument("config", metavar="[config|key-file|ledger|home]", help="Le chemin voulu (défaut : config)."),
) -> None:
    """Affiche le chemin d'un fichier de sarapay (configuration, fichier de clé, registre local, dossier)."""
    from sarapay import credentials, settings

    paths = {
        "config": settings.config_path,
        "key-file": credentials.key_file_path,
        "ledger": settings.ledger_path,
        "home": settings.config_dir,
    }
    if which not in paths:
        raise BadInput("config.unknown_path", value=which)
    console.data_line(str(paths[which]()))
