"""`sarapay config ...` through typer's CliRunner: key storage, masking, mode checks, keyring failures."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from sarapay.cli import app

KEY = "sk_test_configCliKey00009f3e"
LIVE = "sk_" "live_configCliKey00007b2c"


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        result = runner.invoke(app, list(args), input=input, env=env)
        # The key, in full, must never reach any output.
        for secret in (KEY, LIVE):
            assert secret not in result.output
        return result

    return invoke


@pytest.fixture
def memory_keyring():
    import keyring
    import keyring.backend
    import keyring.backends.fail

    store: dict = {}

    class Backend(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return store.get((service, username))

        def set_password(self, service, username, password):
            store[(service, username)] = password

        def delete_password(self, service, username):
            store.pop((service, username), None)

    keyring.set_keyring(Backend())
    yield store
    keyring.set_keyring(keyring.backends.fail.Keyring())


def test_set_key_to_file_is_0600_and_masked(run, hermetic_home):
    result = run("config", "set-key", "--stdin", "--file", input=KEY + "\n")
    assert result.exit_code == 0, result.output
    path = hermetic_home / "stripe-key"
    assert path.read_text().strip() == KEY
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "sk_test_…9f3e" in result.stderr
    assert result.stdout == ""


def test_set_key_to_file_honours_sarapay_key_file(run, tmp_path):
    target = tmp_path / "cron" / "key"
    result = run("config", "set-key", "--stdin", "--file", input=KEY, env={"SARAPAY_KEY_FILE": str(target)})
    assert result.exit_code == 0, result.output
    assert target.read_text().strip() == KEY


def test_set_key_to_keyring(run, memory_keyring):
    result = run("config", "set-key", "--stdin", input=KEY + "\n")
    assert result.exit_code == 0, result.output
    assert memory_keyring[("sarapay", "stripe-secret-key")] == KEY
    assert "sk_test_…9f3e" in result.stderr


def test_set_key_keyring_unavailable_exits_4_naming_alternatives(run):
    result = run("config", "set-key", "--stdin", input=KEY + "\n")
    assert result.exit_code == 4
    assert "STRIPE_API_KEY" in result.stderr and "--file" in result.stderr


def test_set_key_without_tty_or_stdin_is_refused(run):
    result = run("config", "set-key", input="")
    assert result.exit_code == 2
    assert "--stdin" in result.stderr


def test_set_key_is_never_an_argument(run, hermetic_home):
    result = run("config", "set-key", KEY)
    assert result.exit_code == 2
    assert "--stdin" in result.stderr
    assert not (hermetic_home / "stripe-key").exists()


@pytest.mark.parametrize("bad", ["pk_test_abcdefghijkl1234", "sk_test_x", "hello world"])
def test_set_key_checks_format(run, bad):
    result = run("config", "set-key", "--stdin", "--file", input=bad + "\n")
    assert result.exit_code == 2
    assert bad not in result.output


def test_live_key_needs_live(run, hermetic_home):
    result = run("config", "set-key", "--stdin", "--file", input=LIVE + "\n")
    assert result.exit_code == 2
    assert "--live" in result.stderr
    assert not (hermetic_home / "stripe-key").exists()
    result = run("--live", "config", "set-key", "--stdin", "--file", input=LIVE + "\n")
    assert result.exit_code == 0, result.output
    assert "sk_live_…7b2c" in result.stderr


def test_key_file_not_0600_is_reported(run, hermetic_home):
    hermetic_home.mkdir(parents=True)
    path = hermetic_home / "stripe-key"
    path.write_text(KEY)
    path.chmod(0o644)
    result = run("config", "show", "--json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["key"] is None
    assert info["key_problem"]["code"] == "settings.key_file_mode"
    assert f"chmod 600 {path}" in info["key_problem"]["message"]


def test_show_with_env_key(run, hermetic_home):
    result = run("config", "show", env={"STRIPE_API_KEY": KEY, "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "sk_test_…9f3e" in result.stdout
    assert "STRIPE_API_KEY" in result.stdout
    assert str(hermetic_home / "ledger.db") in result.stdout


def test_show_json(run, hermetic_home):
    run("config", "set-client-id", "ca_abcdefgh12345678")
    run("config", "set-api-base", "http://127.0.0.1:12111")
    result = run("config", "show", "--json", env={"STRIPE_API_KEY": KEY})
    info = json.loads(result.stdout)
    assert info["mode"] == "test"
    assert info["key"] == "sk_test_…9f3e" and info["key_source"] == "env" and info["key_mode"] == "test"
    assert info["key_problem"] is None
    assert info["client_id"] == "ca_abcdefgh12345678"
    assert info["api_base"] == "http://127.0.0.1:12111"
    assert info["ledger_path"] == str(hermetic_home / "ledger.db")
    assert info["lang"] == "fr"


def test_show_live_key_without_live_flags_it(run):
    result = run("config", "show", "--json", env={"STRIPE_API_KEY": LIVE})
    info = json.loads(result.stdout)
    assert info["key"] == "sk_live_…7b2c"
    assert info["key_problem"]["code"] == "settings.live_key_needs_flag"
    result = run("--live", "config", "show", "--json", env={"STRIPE_API_KEY": LIVE})
    info = json.loads(result.stdout)
    assert info["mode"] == "live" and info["key_problem"] is None


def test_show_without_keyring_names_stripe_api_key(run):
    result = run("config", "show")
    assert result.exit_code == 0
    assert "STRIPE_API_KEY" in result.stdout


def test_show_in_english(run):
    result = run("--lang", "en", "config", "show", env={"STRIPE_API_KEY": KEY})
    assert "Secret key" in result.stdout and "STRIPE_API_KEY variable" in result.stdout


def test_set_client_id(run, hermetic_home):
    result = run("config", "set-client-id", "ca_abcdefgh12345678")
    assert result.exit_code == 0, result.output
    assert json.loads((hermetic_home / "config.json").read_text())["client_id"] == "ca_abcdefgh12345678"
    assert run("config", "set-client-id", "acct_123").exit_code == 2


def test_set_api_base_and_reset(run, hermetic_home):
    assert run("config", "set-api-base", "http://127.0.0.1:12111/").exit_code == 0
    assert json.loads((hermetic_home / "config.json").read_text())["api_base"] == "http://127.0.0.1:12111"
    result = run("config", "set-api-base", "http://evil.example.org")
    assert result.exit_code == 2
    assert run("config", "set-api-base").exit_code == 2
    assert run("config", "set-api-base", "--reset").exit_code == 0
    assert "api_base" not in json.loads((hermetic_home / "config.json").read_text())


def test_path(run, hermetic_home):
    assert run("config", "path").stdout.strip() == str(hermetic_home / "config.json")
    assert run("config", "path", "ledger").stdout.strip() == str(hermetic_home / "ledger.db")
    assert run("config", "path", "key-file").stdout.strip() == str(hermetic_home / "stripe-key")
    assert run("config", "path", "nope").exit_code == 2


def test_every_config_command_has_french_help_and_an_example(run):
    for command in ("set-key", "set-client-id", "set-api-base", "show", "path"):
        result = run("config", command, "--help")
        assert result.exit_code == 0
        assert "Exemple" in result.stdout, command


# --------------------------------------------------------------------------- the mail server (remind)

SMTP_PASSWORD = "mot-de-passe-smtp-9f3e"


def test_set_smtp_writes_settings_and_never_a_password(run, hermetic_home):
    result = run("config", "set-smtp", "smtp.example.fr", "--user", "rappels@example.fr", "--from", "Rappels@Example.FR")
    assert result.exit_code == 0, result.output
    smtp = json.loads((hermetic_home / "config.json").read_text())["smtp"]
    assert smtp == {"host": "smtp.example.fr", "port": 587, "starttls": True, "user": "rappels@example.fr",
                    "from": "Rappels@example.fr"}
    assert "SARAPAY_SMTP_PASSWORD" in result.stderr  # where the password will be read
    # --from is kept when the server changes
    assert run("config", "set-smtp", "[::1]:2525", "--no-starttls").exit_code == 0
    smtp = json.loads((hermetic_home / "config.json").read_text())["smtp"]
    assert (smtp["host"], smtp["port"], smtp["starttls"], smtp["from"]) == ("::1", 2525, False, "Rappels@example.fr")
    assert "user" not in smtp


def test_set_smtp_password_to_keyring_and_show_says_where(run, memory_keyring):
    result = run("config", "set-smtp", "smtp.example.fr:465", "--user", "rappels", "--from", "r@example.fr",
                 "--password-stdin", input=SMTP_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert memory_keyring[("sarapay", "smtp-password")] == SMTP_PASSWORD
    assert SMTP_PASSWORD not in result.output
    info = json.loads(run("config", "show", "--json").stdout)
    assert info["smtp"]["host"] == "smtp.example.fr" and info["smtp"]["port"] == 465
    assert info["smtp"]["password_source"] == "keyring" and info["smtp"]["problem"] is None
    shown = run("config", "show", env={"COLUMNS": "250", "SARAPAY_SMTP_PASSWORD": "autre-secret-42"})
    assert "smtp.example.fr:465 (chiffré par STARTTLS)" in shown.stdout and "SARAPAY_SMTP_PASSWORD" in shown.stdout
    assert SMTP_PASSWORD not in shown.output and "autre-secret-42" not in shown.output


def test_set_smtp_refuses_a_password_argument_without_echoing_it(run, hermetic_home):
    result = run("config", "set-smtp", "smtp.example.fr", "--user", "rappels", SMTP_PASSWORD)
    assert result.exit_code == 2
    assert SMTP_PASSWORD not in result.output and "jamais en argument" in result.stderr
    assert not (hermetic_home / "config.json").exists()


@pytest.mark.parametrize("args, words", [
    (("smtp.example.fr", "--user", "rappels", "--no-starttls"), "en clair"),  # a password in clear text on the network
    (("smtp example.fr",), "HÔTE:PORT"),
    (("smtp.example.fr:99999",), "HÔTE:PORT"),
    (("smtp.example.fr", "--from", "pas-une-adresse"), "adresse e-mail"),
    (("smtp.example.fr", "--password-stdin"), "--user"),
])
def test_set_smtp_refuses_bad_settings(run, hermetic_home, args, words):
    result = run("config", "set-smtp", *args, input="x\n")
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert not (hermetic_home / "config.json").exists()


def test_set_smtp_keyring_unavailable_exits_4_and_changes_nothing(run, hermetic_home):
    result = run("config", "set-smtp", "smtp.example.fr", "--user", "rappels", "--password-stdin", input=SMTP_PASSWORD)
    assert result.exit_code == 4 and SMTP_PASSWORD not in result.output
    assert not (hermetic_home / "config.json").exists()


def test_show_reports_a_missing_smtp_password(run):
    run("config", "set-smtp", "smtp.example.fr", "--user", "rappels", "--from", "r@example.fr")
    info = json.loads(run("config", "show", "--json").stdout)
    assert info["smtp"]["password_source"] is None and info["smtp"]["problem"]["code"] == "settings.keyring_unavailable"
