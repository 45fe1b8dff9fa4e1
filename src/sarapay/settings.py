"""Where sarapay keeps its files and its configuration.

Paths: `SARAPAY_HOME` (everything in one folder, as the tests and containers want) or else the
platform's user directories (platformdirs). The configuration is a small JSON file (client id, API base,
return pages, the mail server `remind` sends through, the team's database); environment variables win
over it. No secret is ever in it: the Stripe key, the webhook signing secret and the SMTP and database
passwords are found and kept by sarapay.credentials (variables, 0600 files, the OS keyring).

platformdirs is imported inside the functions that need it: `sarapay --help` stays fast.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sarapay import i18n
from sarapay.errors import BadInput, ConfigError, SarapayError

APP_NAME = "sarapay"

ENV_HOME = "SARAPAY_HOME"
ENV_API_BASE = "SARAPAY_API_BASE"
ENV_CLIENT_ID = "SARAPAY_CLIENT_ID"
ENV_DATABASE_URL = "SARAPAY_DATABASE_URL"
DEFAULT_SMTP_PORT = 587  # submission, with STARTTLS

CONFIG_FILE_NAME = "config.json"
LEDGER_FILE_NAME = "ledger.db"

_CLIENT_ID_RE = re.compile(r"^ca_[A-Za-z0-9]{8,}$")

# Where a value comes from: the environment, or a file (the configuration file, a key file).
SOURCE_ENV = "env"
SOURCE_FILE = "file"

i18n.register(
    {
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
        "settings.smtp_cleartext_login": {
            "fr": "Connexion refusée à {host} sans STARTTLS : l'identifiant et le mot de passe circuleraient en clair. "
            "Gardez --starttls (par défaut), ou n'utilisez --no-starttls qu'avec un serveur local (127.0.0.1, localhost).",
            "en": "Login to {host} without STARTTLS refused: the user and password would travel in clear text. "
            "Keep --starttls (the default), or use --no-starttls only with a local server (127.0.0.1, localhost).",
        },
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


def check_smtp_login_safe(settings: SmtpSettings, *, error: type[SarapayError] = ConfigError) -> None:
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


