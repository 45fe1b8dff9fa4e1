"""Where sarapay keeps its files, its configuration, and how it finds the Stripe secret key.

Paths: `SARAPAY_HOME` (everything in one folder, as the tests and containers want) or else the
platform's user directories (platformdirs). The configuration is a small JSON file (client id, API base);
environment variables win over it.

The secret key is looked up in this order: `STRIPE_API_KEY`, a key file (`SARAPAY_KEY_FILE` or the
default path, refused unless 0600), the OS keyring (service "sarapay"). It travels inside `SecretKey`,
whose repr and str are masked, so it cannot leak through a message, a log line or a traceback.

The mail server `remind` sends through (`config set-smtp`) is in the configuration file too; its password
never is: `SARAPAY_SMTP_PASSWORD`, else the OS keyring (same service, user "smtp-password"), carried in a
masked `SmtpPassword` like the key.

keyring and platformdirs are imported inside the functions that need them: `sarapay --help` stays fast.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sarapay import i18n
from sarapay.errors import BadInput, ConfigError
from sarapay.ids import mask_key  # the one masking rule; re-exported for the gateway and the CLI

APP_NAME = "sarapay"
KEYRING_SERVICE = "sarapay"
KEYRING_USERNAME = "stripe-secret-key"

ENV_HOME = "SARAPAY_HOME"
ENV_KEY = "STRIPE_API_KEY"
ENV_KEY_FILE = "SARAPAY_KEY_FILE"
ENV_API_BASE = "SARAPAY_API_BASE"
ENV_CLIENT_ID = "SARAPAY_CLIENT_ID"
ENV_KEYRING_TIMEOUT = "SARAPAY_KEYRING_TIMEOUT"
ENV_DATABASE_URL = "SARAPAY_DATABASE_URL"
ENV_SMTP_PASSWORD = "SARAPAY_SMTP_PASSWORD"
KEYRING_SMTP_USERNAME = "smtp-password"
DEFAULT_SMTP_PORT = 587  # submission, with STARTTLS

ENV_WEBHOOK_SECRET = "SARAPAY_WEBHOOK_SECRET"
ENV_WEBHOOK_SECRET_FILE = "SARAPAY_WEBHOOK_SECRET_FILE"
KEYRING_WEBHOOK_USERNAME = "stripe-webhook-secret"
WEBHOOK_SECRET_FILE_NAME = "webhook-secret"

CONFIG_FILE_NAME = "config.json"
KEY_FILE_NAME = "stripe-key"
LEDGER_FILE_NAME = "ledger.db"

# A keyring behind D-Bus can block forever on a headless machine (no session bus, locked collection).
KEYRING_TIMEOUT_SECONDS = 5.0

# Secret and restricted keys, test or live. Real keys are alphanumeric; the sandbox also allows "_".
_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$")
_CLIENT_ID_RE = re.compile(r"^ca_[A-Za-z0-9]{8,}$")
_WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_+/=]{8,}$")
# Anything that looks like a secret key inside free text (an SDK message, an exception), masked or not.
_KEY_IN_TEXT_RE = re.compile(r"\b(sk|rk)_(test|live)_[A-Za-z0-9_*]+")

SOURCE_ENV = "env"
SOURCE_FILE = "file"
SOURCE_KEYRING = "keyring"
SOURCE_WEBHOOK_ENV = "webhook_env"

i18n.register(
    {
        "settings.no_key": {
            "fr": "Aucune clé secrète Stripe trouvée. Enregistrez-la avec « sarapay config set-key » (trousseau du système), "
            "ou fournissez-la par la variable STRIPE_API_KEY ou un fichier de clé en mode 0600 ({path}).",
            "en": "No Stripe secret key found. Store it with 'sarapay config set-key' (OS keyring), "
            "or provide it through STRIPE_API_KEY or a key file with mode 0600 ({path}).",
        },
        "settings.keyring_unavailable": {
            "fr": "Le trousseau du système est indisponible sur cette machine ({reason}). Sur un serveur ou dans une tâche cron, "
            "fournissez la clé par la variable STRIPE_API_KEY ou par un fichier de clé en mode 0600 "
            "(« sarapay config set-key --file », ou SARAPAY_KEY_FILE=chemin).",
            "en": "The OS keyring is unavailable on this machine ({reason}). On a server or in a cron job, provide the key "
            "through STRIPE_API_KEY or a key file with mode 0600 ('sarapay config set-key --file', or SARAPAY_KEY_FILE=path).",
        },
        "settings.keyring_timeout": {
            "fr": "Le trousseau du système ne répond pas (plus de {seconds} s). Fournissez la clé par la variable "
            "STRIPE_API_KEY ou par un fichier de clé en mode 0600 (« sarapay config set-key --file »).",
            "en": "The OS keyring does not answer (more than {seconds} s). Provide the key through STRIPE_API_KEY "
            "or a key file with mode 0600 ('sarapay config set-key --file').",
        },
        "settings.key_file_mode": {
            "fr": "Le fichier de clé {path} est lisible par d'autres utilisateurs (mode {mode}) : il est refusé. "
            "Corrigez avec : chmod 600 {path}",
            "en": "The key file {path} is readable by other users (mode {mode}): refused. Fix it with: chmod 600 {path}",
        },
        "settings.key_file_missing": {
            "fr": "Le fichier de clé {path} (SARAPAY_KEY_FILE) est introuvable ou illisible.",
            "en": "The key file {path} (SARAPAY_KEY_FILE) is missing or unreadable.",
        },
        "settings.key_file_empty": {
            "fr": "Le fichier de clé {path} est vide.",
            "en": "The key file {path} is empty.",
        },
        "settings.key_format": {
            "fr": "La clé Stripe ({source}) n'a pas le format d'une clé secrète (sk_test_…, sk_live_…, rk_test_…, rk_live_…).",
            "en": "The Stripe key ({source}) is not shaped like a secret key (sk_test_…, sk_live_…, rk_test_…, rk_live_…).",
        },
        "settings.key_publishable": {
            "fr": "C'est une clé publiable (pk_…) : sarapay a besoin de la clé secrète (sk_…) du compte plateforme.",
            "en": "This is a publishable key (pk_…): sarapay needs the platform's secret key (sk_…).",
        },
        "settings.live_key_needs_flag": {
            "fr": "La clé {masked} ({source}) est une clé live : ajoutez --live pour agir en mode réel. "
            "Sans --live, sarapay n'accepte qu'une clé de test.",
            "en": "The key {masked} ({source}) is a live key: add --live to act in live mode. "
            "Without --live, sarapay only accepts a test key.",
        },
        "settings.live_flag_test_key": {
            "fr": "--live demandé, mais la clé {masked} ({source}) est une clé de test : mode incohérent, rien n'est envoyé.",
            "en": "--live was given but the key {masked} ({source}) is a test key: mode mismatch, nothing is sent.",
        },
        "settings.client_id_format": {
            "fr": "Identifiant client Connect invalide « {value} » : il commence par ca_ (Tableau de bord Stripe › Connect › Paramètres).",
            "en": "Invalid Connect client id '{value}': it starts with ca_ (Stripe Dashboard › Connect › Settings).",
        },
        "settings.api_base_format": {
            "fr": "Adresse d'API invalide « {value} » : attendu http(s)://hôte[:port], sans chemin (ex. http://127.0.0.1:12111).",
            "en": "Invalid API address '{value}': expected http(s)://host[:port], no path (e.g. http://127.0.0.1:12111).",
        },
        "settings.return_url_format": {
            "fr": "Adresse de retour « {value} » refusée : donnez une adresse https complète (http seulement en local), "
            "par exemple https://portail.example.fr/paiement/merci.",
            "en": "Return address '{value}' refused: give a full https address (http only locally), "
            "for example https://portal.example.fr/payment/thanks.",
        },
        "settings.api_base_cleartext": {
            "fr": "Adresse d'API « {value} » refusée : en http, seule une adresse locale (127.0.0.1, localhost) est permise, "
            "sinon la clé secrète circulerait en clair.",
            "en": "API address '{value}' refused: plain http is only allowed for a local address (127.0.0.1, localhost), "
            "otherwise the secret key would travel in clear text.",
        },
        "settings.config_damaged": {
            "fr": "Le fichier de configuration {path} est illisible ({reason}). Corrigez-le ou supprimez-le.",
            "en": "The configuration file {path} cannot be read ({reason}). Fix it or delete it.",
        },
        "settings.smtp_host_format": {
            "fr": "Serveur d'envoi « {value} » non reconnu : écrivez HÔTE ou HÔTE:PORT, par exemple smtp.example.fr:587.",
            "en": "Mail server '{value}' not recognised: write HOST or HOST:PORT, for example smtp.example.fr:587.",
        },
        "settings.smtp_user_format": {
            "fr": "Identifiant SMTP « {value} » refusé : un mot sans espace, de 254 caractères au plus.",
            "en": "SMTP user '{value}' refused: one word without blanks, at most 254 characters.",
        },
        "settings.smtp_incomplete": {
            "fr": "L'envoi des rappels n'est pas configuré ({missing}) : réglez-le avec « sarapay config set-smtp HÔTE[:PORT] "
            "--from ADRESSE [--user IDENTIFIANT] ».",
            "en": "Sending reminders is not configured ({missing}): set it with 'sarapay config set-smtp HOST[:PORT] "
            "--from ADDRESS [--user USER]'.",
        },
        "settings.smtp_missing_host": {"fr": "aucun serveur", "en": "no server"},
        "settings.smtp_missing_from": {"fr": "aucune adresse d'expéditeur", "en": "no sender address"},
        "settings.smtp_no_password": {
            "fr": "Aucun mot de passe SMTP trouvé pour l'identifiant {user} ({where}). Enregistrez-le dans le trousseau du "
            "système (« sarapay config set-smtp … --user {user} --password ») ou, sur un serveur ou dans une tâche cron, "
            "fournissez-le par la variable SARAPAY_SMTP_PASSWORD.",
            "en": "No SMTP password found for user {user} ({where}). Store it in the OS keyring "
            "('sarapay config set-smtp … --user {user} --password') or, on a server or in a cron job, provide it "
            "through the SARAPAY_SMTP_PASSWORD variable.",
        },
        "settings.smtp_keyring_empty": {"fr": "rien dans le trousseau", "en": "nothing in the keyring"},
        "settings.smtp_keyring_unavailable": {"fr": "trousseau indisponible : {reason}", "en": "keyring unavailable: {reason}"},
        "settings.smtp_cleartext_login": {
            "fr": "Connexion refusée à {host} sans STARTTLS : l'identifiant et le mot de passe circuleraient en clair. "
            "Gardez --starttls (par défaut), ou n'utilisez --no-starttls qu'avec un serveur local (127.0.0.1, localhost).",
            "en": "Login to {host} without STARTTLS refused: the user and password would travel in clear text. "
            "Keep --starttls (the default), or use --no-starttls only with a local server (127.0.0.1, localhost).",
        },
        "settings.smtp_source.env": {"fr": "variable SARAPAY_SMTP_PASSWORD", "en": "SARAPAY_SMTP_PASSWORD variable"},
        "settings.smtp_source.keyring": {"fr": "trousseau du système", "en": "OS keyring"},
        "settings.no_webhook_secret": {
            "fr": "Aucun secret de signature des webhooks trouvé. Créez le point de réception avec « sarapay webhooks register URL » "
            "(le secret est rangé dans le trousseau, ou avec --file dans un fichier 0600), ou fournissez-le par la variable "
            "SARAPAY_WEBHOOK_SECRET ou un fichier en mode 0600 ({path}).",
            "en": "No webhook signing secret found. Create the endpoint with 'sarapay webhooks register URL' (the secret goes "
            "to the keyring, or with --file to a 0600 file), or provide it through SARAPAY_WEBHOOK_SECRET or a file with "
            "mode 0600 ({path}).",
        },
        "settings.webhook_secret_format": {
            "fr": "Le secret des webhooks ({source}) n'a pas le format attendu (whsec_…).",
            "en": "The webhook secret ({source}) is not shaped as expected (whsec_…).",
        },
        "settings.source.webhook_env": {"fr": "variable SARAPAY_WEBHOOK_SECRET", "en": "SARAPAY_WEBHOOK_SECRET variable"},
        "settings.source.env": {"fr": "variable STRIPE_API_KEY", "en": "STRIPE_API_KEY variable"},
        "settings.source.file": {"fr": "fichier {path}", "en": "file {path}"},
        "settings.source.keyring": {"fr": "trousseau du système", "en": "OS keyring"},
        "settings.source.input": {"fr": "saisie", "en": "input"},
    }
)


# --------------------------------------------------------------------------- paths


def _home() -> Path | None:
    value = os.environ.get(ENV_HOME, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """The configuration folder: SARAPAY_HOME, else the platform's user config dir."""
    home = _home()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The data folder (ledger): SARAPAY_HOME, else the platform's user data dir."""
    home = _home()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def ledger_path() -> Path:
    return data_dir() / LEDGER_FILE_NAME


def database_url() -> tuple[str | None, str | None]:
    """The team's PostgreSQL URL and where it comes from ("env" or "file"), or (None, None) for the
    embedded SQLite ledger. The environment wins over `config set-database`."""
    value = os.environ.get(ENV_DATABASE_URL, "").strip()
    if value:
        return value, SOURCE_ENV
    value = str(read_config_file().get("database_url") or "").strip()
    return (value, SOURCE_FILE) if value else (None, None)


def ledger_location() -> Path | str:
    """What `open_ledger` opens: the PostgreSQL URL when one is set, else the SQLite file's path."""
    url, _source = database_url()
    return url if url else ledger_path()


def default_key_file() -> Path:
    return config_dir() / KEY_FILE_NAME


def key_file_path() -> Path:
    """The key file sarapay reads: SARAPAY_KEY_FILE if set, else the default one in the config folder."""
    value = os.environ.get(ENV_KEY_FILE, "").strip()
    return Path(value).expanduser() if value else default_key_file()


def ensure_private_dir(path: Path) -> Path:
    """Creates `path` (and parents) as 0700 when missing; an existing folder is left as it is."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
    return path


def write_private_file(path: Path, text: str) -> None:
    """Writes `text` to `path` atomically, the file being 0600 from its first byte."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o600)  # the umask may have removed bits, never added: be explicit
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- configuration


# Against Stripe, until `config set-return-urls` names the portal's pages: neutral placeholders (sarapay has
# no web server, and inventing a real address would send patients somewhere nobody chose).
DEFAULT_SUCCESS_URL = "https://teleconsultation.invalid/paiement/merci?session={CHECKOUT_SESSION_ID}"
DEFAULT_CANCEL_URL = "https://teleconsultation.invalid/paiement/annule"
# Against the sandbox: its own pages, so a demo or a training session never ends on a dead address.
SANDBOX_SUCCESS_PATH = "/c/done/{CHECKOUT_SESSION_ID}"
SANDBOX_CANCEL_PATH = "/c/cancel/{CHECKOUT_SESSION_ID}"


@dataclass(frozen=True)
class Config:
    """The effective configuration: the file's values with the environment's overrides applied."""

    client_id: str | None = None
    api_base: str | None = None
    client_id_source: str | None = None  # "env", "file" or None
    api_base_source: str | None = None
    # Where Checkout sends the patient back: the portal's pages (neutral words only, nothing medical).
    success_url: str = DEFAULT_SUCCESS_URL
    cancel_url: str = DEFAULT_CANCEL_URL


def read_config_file() -> dict[str, Any]:
    path = config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError("settings.config_damaged", path=str(path), reason=exc.strerror or type(exc).__name__) from None
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise ConfigError("settings.config_damaged", path=str(path), reason=str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError("settings.config_damaged", path=str(path), reason="not a JSON object")
    return data


def write_config_file(data: dict[str, Any]) -> Path:
    path = config_path()
    clean = {k: v for k, v in data.items() if v is not None}
    write_private_file(path, json.dumps(clean, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def set_config_value(name: str, value: str | None) -> Path:
    """Sets (or with None removes) one value of the config file; returns the file's path."""
    data = read_config_file()
    if value is None:
        data.pop(name, None)
    else:
        data[name] = value
    return write_config_file(data)


def load_config() -> Config:
    data = read_config_file()
    client_id, client_id_source = data.get("client_id"), "file" if data.get("client_id") else None
    api_base, api_base_source = data.get("api_base"), "file" if data.get("api_base") else None
    env_client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
    if env_client_id:
        client_id, client_id_source = env_client_id, "env"
    env_api_base = os.environ.get(ENV_API_BASE, "").strip()
    if env_api_base:
        api_base, api_base_source = env_api_base, "env"
    if client_id:
        client_id = check_client_id(client_id)
    if api_base:
        api_base = check_api_base(api_base)
    sandbox = sandbox_base(api_base or None)
    return Config(client_id=client_id or None, api_base=api_base or None,
                  client_id_source=client_id_source, api_base_source=api_base_source,
                  success_url=data.get("success_url") or (sandbox + SANDBOX_SUCCESS_PATH if sandbox else DEFAULT_SUCCESS_URL),
                  cancel_url=data.get("cancel_url") or (sandbox + SANDBOX_CANCEL_PATH if sandbox else DEFAULT_CANCEL_URL))


def check_client_id(value: str) -> str:
    from sarapay.inputs import shown

    value = value.strip()
    if not _CLIENT_ID_RE.match(value):
        raise BadInput("settings.client_id_format", value=shown(value))
    return value


def is_loopback(host: str | None) -> bool:
    return (host or "").lower() in {"127.0.0.1", "localhost", "::1"} or (host or "").startswith("127.")


def sandbox_base(api_base: str | None) -> str | None:
    """`api_base` when it is the embedded sandbox (a loopback address: Stripe is never one), else None.
    There, sarapay sends people to the sandbox's own pages rather than to placeholders or Stripe's dashboard."""
    return api_base.rstrip("/") if api_base and is_loopback(urlsplit(api_base).hostname) else None


def check_api_base(value: str) -> str:
    """`value` as a base address the SDK accepts (scheme://host[:port], no trailing slash), or BadInput."""
    from sarapay.inputs import shown

    value = value.strip().rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BadInput("settings.api_base_format", value=shown(value)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise BadInput("settings.api_base_format", value=shown(value))
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise BadInput("settings.api_base_cleartext", value=shown(value))
    return value


def check_return_url(value: str) -> str:
    """A page the patient is sent back to after Checkout: https (http only on loopback), or BadInput."""
    return check_web_url(value, "settings.return_url_format")


def check_web_url(value: str, error_key: str) -> str:
    """An address Stripe or a browser reaches: https, http only on loopback (a test or a local proxy), with a
    host and a valid port; BadInput(`error_key`, value=…) otherwise."""
    from sarapay.inputs import shown

    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BadInput(error_key, value=shown(value)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(error_key, value=shown(value))
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise BadInput(error_key, value=shown(value))
    return value


# --------------------------------------------------------------------------- the mail server (remind)

_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?$")


@dataclass(frozen=True)
class SmtpSettings:
    """Where reminders are sent from: the configuration file's `smtp` object (no password in it, ever)."""

    host: str | None = None
    port: int = DEFAULT_SMTP_PORT
    starttls: bool = True
    user: str | None = None
    sender: str | None = None  # the From address

    def missing(self) -> list[str]:
        """Message keys of what is missing to send anything."""
        return [key for key, value in (("settings.smtp_missing_host", self.host), ("settings.smtp_missing_from", self.sender))
                if not value]

    @property
    def address(self) -> str:
        """`host:port` as people write it (`[::1]:25` for an IPv6 address)."""
        host = self.host or ""
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def as_config(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "starttls": self.starttls, "user": self.user, "from": self.sender}


class SmtpPassword:
    """The SMTP password, masked in repr and str like SecretKey: `.reveal()` only where smtplib needs it."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source  # "env" or "keyring"

    def reveal(self) -> str:
        return self._value

    def describe_source(self) -> str:
        return i18n.t(f"settings.smtp_source.{self.source}")

    def __repr__(self) -> str:
        return f"SmtpPassword(***, source={self.source})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("SmtpPassword cannot be pickled")


def parse_smtp_server(text: str) -> tuple[str, int | None]:
    """(host, port or None) from `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT`; BadInput otherwise."""
    from sarapay.inputs import shown

    raw = (text or "").strip()
    host, port_text = raw, None
    if raw.startswith("["):
        inside, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise BadInput("settings.smtp_host_format", value=shown(raw))
        host, port_text = inside, rest[1:] if rest else None
        valid = ":" in host and all(c in "0123456789abcdefABCDEF:." for c in host)
    else:
        if raw.count(":") == 1:
            host, port_text = raw.split(":")
        valid = bool(_HOSTNAME_RE.match(host))
    port: int | None = None
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            valid = False
        else:
            port = int(port_text)
    if not valid:
        raise BadInput("settings.smtp_host_format", value=shown(raw))
    return host.rstrip(".").lower(), port


def check_smtp_user(text: str) -> str:
    from sarapay.inputs import shown

    value = (text or "").strip()
    if not value or len(value) > 254 or not value.isprintable() or any(ch.isspace() for ch in value):
        raise BadInput("settings.smtp_user_format", value=shown(value))
    return value


def check_smtp_login_safe(settings: SmtpSettings, *, error: type = ConfigError) -> None:
    """A login without STARTTLS sends the password in clear text: only to a server on this machine."""
    if settings.user and not settings.starttls and not is_loopback(settings.host):
        raise error("settings.smtp_cleartext_login", host=settings.host)


def load_smtp() -> SmtpSettings:
    """The mail server settings of the configuration file (all None when `config set-smtp` was never run)."""
    data = read_config_file().get("smtp") or {}
    if not isinstance(data, dict):
        raise ConfigError("settings.config_damaged", path=str(config_path()), reason="smtp is not an object")
    try:
        port = int(data.get("port") or DEFAULT_SMTP_PORT)
    except (TypeError, ValueError):
        raise ConfigError("settings.config_damaged", path=str(config_path()), reason="smtp.port is not a number") from None
    return SmtpSettings(
        host=data.get("host") or None, port=port, starttls=bool(data.get("starttls", True)),
        user=data.get("user") or None, sender=data.get("from") or None,
    )


def save_smtp(settings: SmtpSettings) -> Path:
    data = read_config_file()
    data["smtp"] = {k: v for k, v in settings.as_config().items() if v is not None}
    return write_config_file(data)


def find_smtp_password() -> SmtpPassword | None:
    """SARAPAY_SMTP_PASSWORD, else the keyring's; None when neither has one. A broken keyring raises
    ConfigError (settings.keyring_unavailable / keyring_timeout)."""
    value = os.environ.get(ENV_SMTP_PASSWORD, "")
    if value.strip():
        return SmtpPassword(value.strip(), SOURCE_ENV)
    stored = _keyring_call("get_password", username=KEYRING_SMTP_USERNAME)
    return SmtpPassword(stored, SOURCE_KEYRING) if stored else None


def resolve_smtp() -> tuple[SmtpSettings, SmtpPassword | None]:
    """The settings and password to send with, or ConfigError (exit 4) saying what is missing."""
    settings = load_smtp()
    missing = settings.missing()
    if missing:
        raise ConfigError("settings.smtp_incomplete", missing=", ".join(i18n.t(key) for key in missing))
    check_smtp_login_safe(settings)
    if not settings.user:
        return settings, None
    try:
        password = find_smtp_password()
        where = i18n.t("settings.smtp_keyring_empty")
    except ConfigError as exc:
        reason = exc.params.get("reason") or f"> {exc.params.get('seconds')} s"  # unavailable, or timed out
        password, where = None, i18n.t("settings.smtp_keyring_unavailable", reason=reason)
    if password is None:
        raise ConfigError("settings.smtp_no_password", user=settings.user, where=where)
    return settings, password


def store_smtp_password(value: str) -> None:
    _keyring_call("set_password", value, username=KEYRING_SMTP_USERNAME)


# --------------------------------------------------------------------------- the secret key


def redact(text: str) -> str:
    """`text` with every secret-key-looking token masked (for SDK messages we pass through)."""
    return _KEY_IN_TEXT_RE.sub(lambda m: mask_key(m.group(0)), text)


class SecretKey:
    """A Stripe secret key that prints masked. Call `.reveal()` only where the SDK needs it."""

    __slots__ = ("_value", "source", "path")

    def __init__(self, value: str, source: str, path: Path | None = None) -> None:
        self._value = value
        self.source = source  # "env", "file", "keyring" or "input"
        self.path = path

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask_key(self._value)

    @property
    def mode(self) -> str:
        """"live" or "test"."""
        return "live" if "_live_" in self._value[:8] else "test"

    @property
    def is_live(self) -> bool:
        return self.mode == "live"

    def describe_source(self) -> str:
        if self.source == SOURCE_WEBHOOK_ENV:
            return i18n.t("settings.source.webhook_env")
        if self.source == SOURCE_FILE:
            return i18n.t("settings.source.file", path=str(self.path))
        return i18n.t(f"settings.source.{self.source}")

    def __repr__(self) -> str:
        return f"SecretKey({self.masked}, source={self.source})"

    __str__ = __repr__

    def __reduce__(self):  # never pickled, copied to disk or sent to a subprocess by accident
        raise TypeError("SecretKey cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def check_key_format(value: str, source: str, *, error: type = ConfigError, path: Path | None = None) -> SecretKey:
    """Wraps `value` in a SecretKey after checking its shape; `error` is ConfigError for stored keys,
    BadInput for a key being typed in."""
    value = (value or "").strip()
    key = SecretKey(value, source, path)
    if value.startswith("pk_"):
        raise error("settings.key_publishable")
    if not _KEY_RE.match(value):
        raise error("settings.key_format", source=key.describe_source())
    return key


def check_mode(key: SecretKey, *, live: bool) -> SecretKey:
    """Test mode by default: a live key needs --live, and --live refuses a test key."""
    if key.is_live and not live:
        raise ConfigError("settings.live_key_needs_flag", masked=key.masked, source=key.describe_source())
    if live and not key.is_live:
        raise ConfigError("settings.live_flag_test_key", masked=key.masked, source=key.describe_source())
    return key


def _file_mode_is_private(path: Path) -> tuple[bool, int]:
    if os.name == "nt":  # POSIX modes mean nothing there; the user profile's ACL protects the file
        return True, 0
    mode = stat.S_IMODE(path.stat().st_mode)
    return not (mode & 0o077), mode


def read_key_file(path: Path, *, required: bool, check: Any = None) -> SecretKey | None:
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if not exists:
        if required:
            raise ConfigError("settings.key_file_missing", path=str(path))
        return None
    private, mode = _file_mode_is_private(path)
    if not private:
        raise ConfigError("settings.key_file_mode", path=str(path), mode=f"{mode:04o}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError("settings.key_file_missing", path=str(path)) from None
    value = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not value:
        raise ConfigError("settings.key_file_empty", path=str(path))
    return (check or check_key_format)(value, SOURCE_FILE, path=path)


def write_key_file(key: SecretKey, path: Path | None = None) -> Path:
    path = path or key_file_path()
    write_private_file(path, key.reveal() + "\n")
    return path


def _keyring_timeout() -> float:
    try:
        return float(os.environ.get(ENV_KEYRING_TIMEOUT, "") or KEYRING_TIMEOUT_SECONDS)
    except ValueError:
        return KEYRING_TIMEOUT_SECONDS


def _keyring_call(action: str, *args: str, username: str = KEYRING_USERNAME) -> Any:
    """Runs a keyring call in a daemon thread so a blocked backend cannot hang a cron job.

    Any failure (no backend, the fail/null backend, a locked or broken one) is a ConfigError naming the
    alternatives; the backend's own message is kept short and never contains the key.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            import keyring
            import keyring.backends.fail
            import keyring.backends.null

            backend = keyring.get_keyring()
            if isinstance(backend, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring)):
                outcome["unavailable"] = "no usable backend" if i18n.get_lang() == "en" else "aucun trousseau utilisable"
                return
            outcome["value"] = getattr(keyring, action)(KEYRING_SERVICE, username, *args)
        except Exception as exc:  # NoKeyringError, KeyringError, dbus/secretstorage errors, ImportError...
            outcome["unavailable"] = type(exc).__name__

    seconds = _keyring_timeout()
    worker = threading.Thread(target=run, name="sarapay-keyring", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ConfigError("settings.keyring_timeout", seconds=f"{seconds:g}")
    if "unavailable" in outcome:
        raise ConfigError("settings.keyring_unavailable", reason=outcome["unavailable"])
    return outcome.get("value")


def read_keyring() -> SecretKey | None:
    value = _keyring_call("get_password")
    if not value:
        return None
    return check_key_format(value, SOURCE_KEYRING)


def store_in_keyring(key: SecretKey) -> None:
    _keyring_call("set_password", key.reveal())


def database_keyring_username(masked_url: str) -> str:
    """The keyring entry of a database password: the URL it opens (never holding a password itself)."""
    return f"database:{masked_url}"


def read_database_password(masked_url: str) -> str | None:
    """The database password kept in the keyring for this URL, or None (no entry, or no usable keyring:
    PGPASSWORD and ~/.pgpass are the other sources, read by libpq itself)."""
    try:
        return _keyring_call("get_password", username=database_keyring_username(masked_url)) or None
    except ConfigError:
        return None


def store_database_password(masked_url: str, password: str) -> None:
    _keyring_call("set_password", password, username=database_keyring_username(masked_url))


def find_key() -> SecretKey | None:
    """The first key found (env, key file, keyring), format-checked; None when there is none.

    A broken source (bad file mode, unusable keyring) raises rather than being skipped silently."""
    value = os.environ.get(ENV_KEY, "").strip()
    if value:
        return check_key_format(value, SOURCE_ENV)
    explicit_file = bool(os.environ.get(ENV_KEY_FILE, "").strip())
    key = read_key_file(key_file_path(), required=explicit_file)
    if key is not None:
        return key
    return read_keyring()


def resolve_key(*, live: bool = False) -> SecretKey:
    """The secret key to use for this run, checked against the requested mode, or ConfigError (exit 4)."""
    key = find_key()
    if key is None:
        raise ConfigError("settings.no_key", path=str(key_file_path()))
    return check_mode(key, live=live)


# --------------------------------------------------------------------------- the webhook signing secret
# Kept like the API key (`webhooks register` stores it, `webhooks serve` reads it): SARAPAY_WEBHOOK_SECRET,
# a 0600 file (SARAPAY_WEBHOOK_SECRET_FILE or the default path), the OS keyring; never printed unmasked.


def webhook_secret_file_path() -> Path:
    value = os.environ.get(ENV_WEBHOOK_SECRET_FILE, "").strip()
    return Path(value).expanduser() if value else config_dir() / WEBHOOK_SECRET_FILE_NAME


def check_webhook_secret(value: str, source: str, *, error: type = ConfigError, path: Path | None = None) -> SecretKey:
    value = (value or "").strip()
    secret = SecretKey(value, source, path)
    if not _WEBHOOK_SECRET_RE.match(value):
        raise error("settings.webhook_secret_format", source=secret.describe_source())
    return secret


def find_webhook_secret() -> SecretKey | None:
    value = os.environ.get(ENV_WEBHOOK_SECRET, "").strip()
    if value:
        return check_webhook_secret(value, SOURCE_WEBHOOK_ENV)
    explicit_file = bool(os.environ.get(ENV_WEBHOOK_SECRET_FILE, "").strip())
    secret = read_key_file(webhook_secret_file_path(), required=explicit_file, check=check_webhook_secret)
    if secret is not None:
        return secret
    try:
        value = _keyring_call("get_password", username=KEYRING_WEBHOOK_USERNAME)
    except ConfigError:
        return None  # no usable keyring (a server): the message names the file and the variable instead
    return check_webhook_secret(value, SOURCE_KEYRING) if value else None


def resolve_webhook_secret() -> SecretKey:
    secret = find_webhook_secret()
    if secret is None:
        raise ConfigError("settings.no_webhook_secret", path=str(webhook_secret_file_path()))
    return secret


def store_webhook_secret(secret: SecretKey, *, to_file: bool) -> Path | None:
    """Keeps the secret in a 0600 file (returned) or the OS keyring (None)."""
    if to_file:
        path = webhook_secret_file_path()
        write_private_file(path, secret.reveal() + "\n")
        return path
    _keyring_call("set_password", secret.reveal(), username=KEYRING_WEBHOOK_USERNAME)
    return None
