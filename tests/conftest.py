"""Shared fixtures: a hermetic home per test and one sandbox process for the whole run.

The sandbox runs as a separate process (as `sarapay sandbox serve` would), so freezegun in a test
moves only the client's clock; Stripe's clock moves through the sandbox's own clock endpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sarapay.sandbox_control import SandboxControl

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

TEST_KEY = "sk_test_sarapayTests0000"
TEST_CLIENT_ID = "ca_sarapayTests0000"


@pytest.fixture(autouse=True)
def hermetic_home(tmp_path, monkeypatch):
    """Every test gets its own SARAPAY_HOME, its own empty HOME (what a library writes under ~ lands
    there, not in the developer's home; tests/cli checks nothing does) and no secret from the environment."""
    home = tmp_path / "sarapay-home"
    monkeypatch.setenv("SARAPAY_HOME", str(home))
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name in ("STRIPE_API_KEY", "SARAPAY_KEY_FILE", "SARAPAY_LANG", "SARAPAY_API_BASE", "SARAPAY_CLIENT_ID",
                 "SARAPAY_SMTP_PASSWORD", "SARAPAY_DATABASE_URL", "PGPASSWORD", "PGHOST", "PGPORT", "PGUSER",
                 "PGDATABASE", "PGPASSFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    from sarapay import i18n

    i18n.set_lang(None)  # an in-process `--lang en` of a previous test must not leak into this one
    return home


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL server for the session (tests/pg.py). Where it cannot start, the tests that
    need it skip loudly as a missing component (tests/components.py); under SARAPAY_REQUIRE_COMPONENTS=1
    (.ci/run) they fail instead."""
    from tests import pg
    from tests.components import missing_component

    cluster, reason = pg.start_or_reason()
    if cluster is None:
        missing_component("postgresql", f"{reason}; install Debian's `postgresql` package")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """A new, empty PostgreSQL database for this test, as a URL (no password: the test role is trusted)."""
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_backend(request, monkeypatch):
    """Runs the test once on each backend: on "postgresql", every sarapay the test starts (in process or
    as a subprocess) uses a new PostgreSQL database through SARAPAY_DATABASE_URL."""
    if request.param == "postgresql":
        monkeypatch.setenv("SARAPAY_DATABASE_URL", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("SARAPAY_DATABASE_URL", raising=False)
    return request.param


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=open(tmp_path_factory.mktemp("sandbox") / "stderr.log", "w"),
        text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("SANDBOX_URL="):
        proc.kill()
        raise RuntimeError(f"the sandbox did not start: {line!r}")
    url = line.split("=", 1)[1]
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def sandbox(sandbox_process) -> SandboxControl:
    """The sandbox, emptied for this test."""
    control = SandboxControl(sandbox_process)
    control.reset()
    return control


@pytest.fixture
def stripe_client(sandbox):
    """A factory of real StripeClients talking to the sandbox over HTTP.

    Telemetry off, as sarapay's Gateway has it: the tests' own client writes nothing under HOME and
    sends no telemetry header, so what tests/cli checks of both is sarapay's doing."""
    import stripe

    stripe.enable_telemetry = False

    def make(key: str = TEST_KEY, client_id: str = TEST_CLIENT_ID, retries: int = 0, http_client=None, **kwargs):
        return stripe.StripeClient(
            key,
            client_id=client_id,
            base_addresses={"api": sandbox.url, "connect": sandbox.url, "files": sandbox.url},
            max_network_retries=retries,
            http_client=http_client or stripe.UrllibClient(),
            **kwargs,
        )

    return make


@pytest.fixture
def cli_env(sandbox, monkeypatch):
    """The environment a cron job would have, pointed at the sandbox: key, Connect client id, API base."""
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("SARAPAY_CLIENT_ID", TEST_CLIENT_ID)
    monkeypatch.setenv("SARAPAY_API_BASE", sandbox.url)
    return sandbox


@pytest.fixture
def run(cli_env):
    """Runs `sarapay ARGS...` in process through typer's CliRunner; stdout and stderr stay apart."""
    from typer.testing import CliRunner

    from sarapay.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def pytest_terminal_summary(terminalreporter):
    """Say it once more at the end, in red: tests that skipped because a component could not start
    (tests/components.py). CI runs with SARAPAY_REQUIRE_COMPONENTS=1, where they fail instead."""
    from tests.components import PREFIX, REQUIRE

    components: set[str] = set()
    count = 0
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        if PREFIX in reason:
            count += 1
            components.add(reason.split(PREFIX, 1)[1].split(":", 1)[0].strip())
    if count:
        terminalreporter.write_sep(
            "!", f"{count} test(s) skipped, missing: {', '.join(sorted(components))} "
            f"(CI sets {REQUIRE}=1 and fails on this; see tests/components.py)", red=True, bold=True)
