"""settings.py and credentials.py: paths, config file, key resolution order, key file mode, keyring failures, mode checks."""

from __future__ import annotations

import json
import os
import pickle
import stat
import threading
import time

import pytest

from sarapay import credentials, ids, settings
from sarapay.errors import BadInput, ConfigError

TEST_KEY = "sk_test_settingsKey0000abcd"
LIVE_KEY = "sk_" "live_settingsKey0000wxyz"


def write_key(path, key=TEST_KEY, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(mode)
    return path


class MemoryKeyring:
    """A working in-memory keyring backend, installed through keyring.set_keyring."""

    def __init__(self, value=None, delay=0.0):
        import keyring.backend

        store = {}
        if value:
            store[(credentials.KEYRING_SERVICE, credentials.KEYRING_USERNAME)] = value

        class Backend(keyring.backend.KeyringBackend):
            priority = 1

            def get_password(self, service, username):
                time.sleep(delay)
                return store.get((service, username))

            def set_password(self, service, username, password):
                store[(service, username)] = password

            def delete_password(self, service, username):
                store.pop((service, username), None)

        self.store = store
        self.backend = Backend()


@pytest.fixture
def memory_keyring():
    import keyring
    import keyring.backends.fail

    def install(value=None, delay=0.0):
        ring = MemoryKeyring(value, delay)
        keyring.set_keyring(ring.backend)
        return ring

    yield install
    keyring.set_keyring(keyring.backends.fail.Keyring())


def test_paths_follow_sarapay_home(hermetic_home):
    assert settings.config_dir() == hermetic_home
    assert settings.ledger_path() == hermetic_home / "ledger.db"
    assert settings.config_path() == hermetic_home / "config.json"
    assert credentials.key_file_path() == hermetic_home / "stripe-key"


def test_paths_without_home_use_platformdirs(monkeypatch, tmp_path):
    monkeypatch.delenv("SARAPAY_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert settings.config_path() == tmp_path / "cfg" / "sarapay" / "config.json"
        assert settings.ledger_path() == tmp_path / "data" / "sarapay" / "ledger.db"


def test_key_file_env_overrides_default(monkeypatch, tmp_path):
    monkeypatch.setenv("SARAPAY_KEY_FILE", str(tmp_path / "k"))
    assert credentials.key_file_path() == tmp_path / "k"


def test_mask_key():
    assert ids.mask_key("sk_test_51Habcdefghijkl4f2a") == "sk_test_…4f2a"
    assert ids.mask_key("rk_" "live_51Habcdefghijkl9999") == "rk_" "live_…9999"
    # too short to show a tail without showing too much of it
    assert ids.mask_key("sk_test_abcdefgh") == "sk_test_…"
    assert ids.mask_key("") == ""


def test_redact_masks_every_key_in_free_text():
    text = f"Invalid API Key provided: {TEST_KEY} and sk_live_****wxyz"
    out = credentials.redact(text)
    assert TEST_KEY not in out
    assert "sk_test_…abcd" in out


def test_secret_key_never_prints_itself():
    key = credentials.SecretKey(TEST_KEY, settings.SOURCE_ENV)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert TEST_KEY not in text
        assert "…abcd" in text
    assert key.reveal() == TEST_KEY
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_env_key_wins(monkeypatch, hermetic_home, memory_keyring):
    memory_keyring("sk_test_fromKeyringXXXX1111")
    write_key(hermetic_home / "stripe-key", "sk_test_fromFileXXXXXX2222")
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    key = credentials.resolve_key()
    assert key.reveal() == TEST_KEY and key.source == "env" and key.mode == "test"


def test_key_file_before_keyring(hermetic_home, memory_keyring):
    memory_keyring("sk_test_fromKeyringXXXX1111")
    write_key(hermetic_home / "stripe-key", "sk_test_fromFileXXXXXX2222")
    key = credentials.resolve_key()
    assert key.source == "file" and key.reveal().endswith("2222")


def test_keyring_last(memory_keyring):
    memory_keyring("sk_test_fromKeyringXXXX1111")
    key = credentials.resolve_key()
    assert key.source == "keyring" and key.reveal().endswith("1111")


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_refused_unless_0600(hermetic_home, mode):
    path = write_key(hermetic_home / "stripe-key", mode=mode)
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert info.value.exit_code == 4
    assert f"chmod 600 {path}" in info.value.message
    assert TEST_KEY not in info.value.message


def test_explicit_key_file_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("SARAPAY_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert str(tmp_path / "missing") in info.value.message


def test_explicit_key_file_is_read(monkeypatch, tmp_path):
    path = write_key(tmp_path / "cron-key", "\n  " + TEST_KEY + "  \n")
    monkeypatch.setenv("SARAPAY_KEY_FILE", str(path))
    key = credentials.resolve_key()
    assert key.source == "file" and key.path == path and key.reveal() == TEST_KEY
    assert str(path) in key.describe_source()


def test_empty_key_file(hermetic_home):
    write_key(hermetic_home / "stripe-key", "")
    with pytest.raises(ConfigError):
        credentials.resolve_key()


def test_fail_keyring_backend_is_config_error_naming_alternatives():
    # conftest selects keyring.backends.fail.Keyring through PYTHON_KEYRING_BACKEND
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    message = info.value.message
    assert info.value.exit_code == 4
    assert "STRIPE_API_KEY" in message and "0600" in message


def test_keyring_raising_keyring_error(memory_keyring):
    import keyring.errors

    ring = memory_keyring()

    def boom(*_):
        raise keyring.errors.KeyringLocked("locked")

    ring.backend.get_password = boom
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert "KeyringLocked" in info.value.message and "STRIPE_API_KEY" in info.value.message


def test_hanging_keyring_does_not_hang(monkeypatch, memory_keyring):
    release = threading.Event()
    ring = memory_keyring()
    ring.backend.get_password = lambda *_: release.wait(30)
    monkeypatch.setenv("SARAPAY_KEYRING_TIMEOUT", "0.2")
    started = time.monotonic()
    try:
        with pytest.raises(ConfigError) as info:
            credentials.resolve_key()
    finally:
        release.set()
    assert time.monotonic() - started < 10
    assert "STRIPE_API_KEY" in info.value.message


def test_no_key_anywhere(memory_keyring):
    memory_keyring()
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert "sarapay config set-key" in info.value.message and "STRIPE_API_KEY" in info.value.message


@pytest.mark.parametrize("value", ["sk_test_short", "hello", "sk_prod_abcdefghijkl", "whsec_abcdefghijkl", "sk_test_abc def ghijkl"])
def test_bad_key_format(monkeypatch, value):
    monkeypatch.setenv("STRIPE_API_KEY", value)
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert value not in info.value.message


def test_publishable_key_refused(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "pk_test_abcdefghijkl")
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert "pk_" in info.value.message


def test_key_typed_in_is_bad_input():
    with pytest.raises(BadInput):
        credentials.check_key_format("nope", "input", error=BadInput)
    assert credentials.check_key_format(" rk_test_abcdefghijkl \n", "input").mode == "test"


def test_live_key_needs_live_flag(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", LIVE_KEY)
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key()
    assert "--live" in info.value.message and LIVE_KEY not in info.value.message
    assert credentials.resolve_key(live=True).mode == "live"


def test_live_flag_with_test_key_is_a_mismatch(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    with pytest.raises(ConfigError) as info:
        credentials.resolve_key(live=True)
    assert "--live" in info.value.message and TEST_KEY not in info.value.message


def test_write_key_file_is_0600_from_the_start(hermetic_home):
    old = os.umask(0o022)
    try:
        path = credentials.write_key_file(credentials.SecretKey(TEST_KEY, "input"))
    finally:
        os.umask(old)
    assert path == hermetic_home / "stripe-key"
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.resolve_key().reveal() == TEST_KEY


def test_store_in_keyring(memory_keyring):
    ring = memory_keyring()
    credentials.store_in_keyring(credentials.SecretKey(TEST_KEY, "input"))
    assert ring.store[("sarapay", "stripe-secret-key")] == TEST_KEY


def test_store_in_unavailable_keyring():
    with pytest.raises(ConfigError) as info:
        credentials.store_in_keyring(credentials.SecretKey(TEST_KEY, "input"))
    assert "--file" in info.value.message


def test_config_file_round_trip_and_env_overrides(monkeypatch, hermetic_home):
    assert settings.load_config() == settings.Config()
    settings.set_config_value("client_id", "ca_abcdefgh1234")
    settings.set_config_value("api_base", "http://127.0.0.1:12111/")
    config = settings.load_config()
    assert config.client_id == "ca_abcdefgh1234" and config.client_id_source == "file"
    assert config.api_base == "http://127.0.0.1:12111"
    assert json.loads((hermetic_home / "config.json").read_text())["client_id"] == "ca_abcdefgh1234"
    monkeypatch.setenv("SARAPAY_API_BASE", "http://localhost:9999")
    monkeypatch.setenv("SARAPAY_CLIENT_ID", "ca_fromEnvironment1")
    config = settings.load_config()
    assert (config.api_base, config.api_base_source) == ("http://localhost:9999", "env")
    assert (config.client_id, config.client_id_source) == ("ca_fromEnvironment1", "env")
    settings.set_config_value("api_base", None)
    assert "api_base" not in json.loads((hermetic_home / "config.json").read_text())


def test_damaged_config_is_config_error(hermetic_home):
    hermetic_home.mkdir(parents=True)
    (hermetic_home / "config.json").write_text("{not json")
    with pytest.raises(ConfigError) as info:
        settings.load_config()
    assert "config.json" in info.value.message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("http://127.0.0.1:12111", "http://127.0.0.1:12111"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("https://api.stripe.com", "https://api.stripe.com"),
    ],
)
def test_api_base_accepted(value, expected):
    assert settings.check_api_base(value) == expected


@pytest.mark.parametrize("value", ["ftp://127.0.0.1", "127.0.0.1:12111", "http://127.0.0.1:12111/v1", "http://127.0.0.1:99999"])
def test_api_base_format_refused(value):
    with pytest.raises(BadInput):
        settings.check_api_base(value)


def test_api_base_cleartext_refused_off_loopback():
    with pytest.raises(BadInput) as info:
        settings.check_api_base("http://stripe.example.org")
    assert "http" in info.value.message


def test_client_id_format():
    assert settings.check_client_id(" ca_abcdefgh1234 ") == "ca_abcdefgh1234"
    with pytest.raises(BadInput):
        settings.check_client_id("acct_123456789")
