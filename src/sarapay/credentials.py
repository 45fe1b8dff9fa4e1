"""sarapay's secrets: the Stripe secret key, the webhook signing secret, the SMTP and database passwords.

None of them is ever in the configuration file (settings.py). Each one travels inside an object whose repr
and str are masked (`SecretKey`, `SmtpPassword`), so it cannot leak through a message, a log line or a
traceback; `.reveal()` is called only where the SDK, smtplib or libpq needs the value.

Where they are looked up, first found wins:
- the Stripe key: `STRIPE_API_KEY`, a key file (`SARAPAY_KEY_FILE` or the default path, refused unless
  0600), the OS keyring (service "sarapay", user "stripe-secret-key");
- the webhook signing secret: `SARAPAY_WEBHOOK_SECRET`, a 0600 file (`SARAPAY_WEBHOOK_SECRET_FILE` or the
  default path), the OS keyring (user "stripe-webhook-secret");
- the SMTP password: `SARAPAY_SMTP_PASSWORD`, the OS keyring (user "smtp-password");
- a database password: the OS keyring (user "database:" + the masked URL), else libpq's own PGPASSWORD
  and ~/.pgpass.

Every keyring access goes through `_keyring_call`, which runs it in a thread with a timeout (a keyring
behind D-Bus can block forever on a headless machine). keyring is imported there: `sarapay --help` stays
fast. The message keys keep their `settings.` prefix: they are the error codes machine output shows.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path
from typing import Any, NoReturn, Protocol

from sarapay import i18n
from sarapay.errors import ConfigError, SarapayError
from sarapay.ids import mask_key
from sarapay.settings import (
    SOURCE_ENV,
    SOURCE_FILE,
    SmtpSettings,
    check_smtp_login_safe,
    config_dir,
    load_smtp,
    write_private_file,
)

KEYRING_SERVICE = "sarapay"
KEYRING_USERNAME = "stripe-secret-key"
KEYRING_SMTP_USERNAME = "smtp-password"
KEYRING_WEBHOOK_USERNAME = "stripe-webhook-secret"

ENV_KEY = "STRIPE_API_KEY"
ENV_KEY_FILE = "SARAPAY_KEY_FILE"
ENV_KEYRING_TIMEOUT = "SARAPAY_KEYRING_TIMEOUT"
ENV_SMTP_PASSWORD = "SARAPAY_SMTP_PASSWORD"
ENV_WEBHOOK_SECRET = "SARAPAY_WEBHOOK_SECRET"
ENV_WEBHOOK_SECRET_FILE = "SARAPAY_WEBHOOK_SECRET_FILE"

KEY_FILE_NAME = "stripe-key"
WEBHOOK_SECRET_FILE_NAME = "webhook-secret"

# A keyring behind D-Bus can block forever on a headless machine (no session bus, locked collection).
KEYRING_TIMEOUT_SECONDS = 5.0

# Secret and restricted keys, test or live. Real keys are alphanumeric; the sandbox also allows "_".
_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$")
_WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_+/=]{8,}$")
# Anything that looks like a secret key inside free text (an SDK message, an exception), masked or not.
_KEY_IN_TEXT_RE = re.compile(r"\b(sk|rk)_(test|live)_[A-Za-z0-9_*]+")

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
        "settings.smtp_source.env": {"fr": "variable SARAPAY_SMTP_PASSWORD", "en": "SARAPAY_SMTP_PASSWORD variable"},
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


def describe_source(source: str, path: Path | str | None = None) -> str:
    """Where a secret was found, in words: "STRIPE_API_KEY variable", "file /path", "OS keyring"…"""
    if source == SOURCE_FILE:
        return i18n.t("settings.source.file", path=str(path))
    return i18n.t(f"settings.source.{source}")


def describe_smtp_password_source(source: str) -> str:
    """Where the SMTP password was found ("env" or "keyring", as `config show` reports it), in words."""
    return i18n.t("settings.smtp_source.env") if source == SOURCE_ENV else describe_source(source)


class _Masked:
    """A secret that prints masked, cannot be pickled, and gives its value only to `.reveal()`."""

    __slots__ = ("_value", "source", "path")

    def __init__(self, value: str, source: str, path: Path | None = None) -> None:
        self._value = value
        self.source = source
        self.path = path

    def reveal(self) -> str:
        return self._value

    def __reduce__(self) -> NoReturn:  # never pickled, copied to disk or sent to a subprocess by accident
        raise TypeError(f"{type(self).__name__} cannot be pickled")


# --------------------------------------------------------------------------- key files and the keyring


def default_key_file() -> Path:
    return config_dir() / KEY_FILE_NAME


def key_file_path() -> Path:
    """The key file sarapay reads: SARAPAY_KEY_FILE if set, else the default one in the config folder."""
    value = os.environ.get(ENV_KEY_FILE, "").strip()
    return Path(value).expanduser() if value else default_key_file()


def _file_mode_is_private(path: Path) -> tuple[bool, int]:
    if os.name == "nt":  # POSIX modes mean nothing there; the user profile's ACL protects the file
        return True, 0
    mode = stat.S_IMODE(path.stat().st_mode)
    return not (mode & 0o077), mode


def _keyring_timeout() -> float:
    try:
        return float(os.environ.get(ENV_KEYRING_TIMEOUT, "") or KEYRING_TIMEOUT_SECONDS)
    except ValueError:
        return KEYRING_TIMEOUT_SECONDS


def _keyring_call(action: str, *args: str, username: str = KEYRING_USERNAME) -> str | None:
    """Runs a keyring call ("get_password" or "set_password") in a daemon thread so a blocked backend
    cannot hang a cron job; the value read, or None.

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
    value = outcome.get("value")
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- the secret key


def redact(text: str) -> str:
    """`text` with every secret-key-looking token masked (for SDK messages we pass through)."""
    return _KEY_IN_TEXT_RE.sub(lambda m: mask_key(m.group(0)), text)


class SecretKey(_Masked):
    """A Stripe secret key (or the webhook signing secret) that prints masked. Call `.reveal()` only where
    the SDK needs it. `source`: "env", "file", "keyring", "input" or "webhook_env"."""

    __slots__ = ()

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
        return describe_source(self.source, self.path)

    def __repr__(self) -> str:
        return f"SecretKey({self.masked}, source={self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretCheck(Protocol):
    """What checks a secret read from a file: check_key_format or check_webhook_secret."""

    def __call__(self, value: str, source: str, *, path: Path | None = None) -> SecretKey: ...


def check_key_format(value: str, source: str, *, error: type[SarapayError] = ConfigError,
                     path: Path | None = None) -> SecretKey:
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


def read_key_file(path: Path, *, required: bool, check: SecretCheck = check_key_format) -> SecretKey | None:
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
    return check(value, SOURCE_FILE, path=path)


def write_key_file(key: SecretKey, path: Path | None = None) -> Path:
    path = path or key_file_path()
    write_private_file(path, key.reveal() + "\n")
    return path


def read_keyring() -> SecretKey | None:
    value = _keyring_call("get_password")
    if not value:
        return None
    return check_key_format(value, SOURCE_KEYRING)


def store_in_keyring(key: SecretKey) -> None:
    _keyring_call("set_password", key.reveal())


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


def check_webhook_secret(value: str, source: str, *, error: type[SarapayError] = ConfigError,
                         path: Path | None = None) -> SecretKey:
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
        stored = _keyring_call("get_password", username=KEYRING_WEBHOOK_USERNAME)
    except ConfigError:
        return None  # no usable keyring (a server): the message names the file and the variable instead
    return check_webhook_secret(stored, SOURCE_KEYRING) if stored else None


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


# --------------------------------------------------------------------------- the SMTP password (remind)


class SmtpPassword(_Masked):
    """The SMTP password, masked in repr and str like SecretKey: `.reveal()` only where smtplib needs it.
    `source`: "env" (SARAPAY_SMTP_PASSWORD) or "keyring"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SmtpPassword(***, source={self.source})"

    __str__ = __repr__


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


# --------------------------------------------------------------------------- database passwords


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
