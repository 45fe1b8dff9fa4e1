"""`sarapay link` and `sarapay unlink` against the sandbox over HTTP: the whole Connect OAuth flow, created
accounts and their onboarding, attaching, the pairing check, unlinking, and every kind of bad input.

"Nothing changed" means: the practitioners and OAuth states in the ledger are as before, and the sandbox
saw no POST (every POST sarapay sends is a change on Stripe).
"""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps
from tests.conftest import TEST_CLIENT_ID, TEST_KEY

R1 = make_test_rpps(201)
R2 = make_test_rpps(202)
EMAIL = "dr.martin@example.fr"


# --- helpers ---------------------------------------------------------------------------------------------


def ledger():
    return open_ledger(settings.ledger_path())


def practitioner(rpps: str) -> dict | None:
    with ledger() as book:
        return book.get_practitioner(rpps)


def snapshot() -> dict:
    """What a refused command must not change: practitioners and OAuth states (read without the Ledger API,
    so a missing file stays missing)."""
    path = settings.ledger_path()
    if not path.exists():
        return {"practitioners": [], "oauth_states": []}
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in ("practitioners", "oauth_states")
        }
    finally:
        conn.close()


def audit(command: str | None = None) -> list[dict]:
    with ledger() as book:
        return book.list_audit(100, command=command)


def posts(sandbox, path_prefix: str = "") -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "POST" and r["path"].startswith(path_prefix)]


def start(run, rpps: str, email: str = EMAIL) -> str:
    result = run("link", rpps, "--email", email)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def link_oauth(run, sandbox, rpps: str) -> str:
    """The whole OAuth flow; returns the connected account id."""
    consent = sandbox.oauth_authorize(start(run, rpps))
    result = run("link", rpps, "--code", consent["code"], "--state", consent["state"])
    assert result.exit_code == 0, result.stderr
    return consent["stripe_user_id"]


# --- Connect OAuth ---------------------------------------------------------------------------------------


def test_oauth_flow_links_the_account_the_practitioner_authorised(run, sandbox):
    result = run("link", R1, "--email", " Dr.Martin@Example.FR ", "--name", "Dr Martin")
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert "\n" not in url and url.startswith(sandbox.url + "/oauth/authorize?")
    params = query(url)
    assert params["scope"] == "read_write"
    assert params["client_id"] == TEST_CLIENT_ID
    assert params["response_type"] == "code"
    assert params["stripe_user[email]"] == "Dr.Martin@example.fr"
    assert len(params["state"]) >= 24
    # What to do next, on stderr, with this practitioner's RPPS in the command to run.
    assert f"sarapay link {R1} --code CODE --state STATE" in result.stderr
    assert "D***@example.fr" in result.stderr and "Dr.Martin@" not in result.stderr
    # Registered, not linked yet; nothing sent to Stripe to build a URL.
    row = practitioner(R1)
    assert (row.name, row.email, row.account_id) == ("Dr Martin", "Dr.Martin@example.fr", None)
    assert posts(sandbox) == []

    consent = sandbox.oauth_authorize(url)
    # The 12-digit IDNPS form of the same practitioner completes the link.
    done = run("link", "8" + R1, "--code", consent["code"], "--state", consent["state"])
    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == consent["stripe_user_id"]
    assert consent["stripe_user_id"] in done.stderr and "--check" in done.stderr
    row = practitioner(R1)
    assert (row.account_id, row.link_method) == (consent["stripe_user_id"], "oauth")
    assert row.linked_at
    (token,) = posts(sandbox, "/oauth/token")
    assert token["params"]["code"] == consent["code"]
    assert [(e.command, e.outcome) for e in audit()] == [("link.oauth", "ok"), ("link.oauth-start", "ok")]


def test_return_url_completes_the_link(run, sandbox):
    consent = sandbox.oauth_authorize(start(run, R1))
    result = run("link", R1, "--return-url", consent["redirect_url"], "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rpps"] == R1 and data["account_id"] == consent["stripe_user_id"] and data["link_method"] == "oauth"


def test_used_state_is_refused_and_stripe_not_called(run, sandbox):
    consent = sandbox.oauth_authorize(start(run, R1))
    assert run("link", R1, "--code", consent["code"], "--state", consent["state"]).exit_code == 0
    assert run("unlink", R1, "--yes").exit_code == 0
    before, tokens = snapshot(), len(posts(sandbox, "/oauth/token"))

    again = run("link", R1, "--code", consent["code"], "--state", consent["state"])
    assert again.exit_code == 2
    assert "déjà servi" in again.stderr
    assert snapshot() == before
    assert len(posts(sandbox, "/oauth/token")) == tokens


def test_state_issued_for_another_practitioner_is_refused_and_kept(run, sandbox):
    consent = sandbox.oauth_authorize(start(run, R1))
    start(run, R2)
    before = snapshot()
    result = run("link", R2, "--code", consent["code"], "--state", consent["state"])
    assert result.exit_code == 2
    assert "autre praticien" in result.stderr and R2 in result.stderr
    assert snapshot() == before
    assert posts(sandbox, "/oauth/token") == []
    # Not burnt by the mistake: the right practitioner still completes with it.
    assert run("link", R1, "--code", consent["code"], "--state", consent["state"]).exit_code == 0


def test_unknown_state_is_refused(run, sandbox):
    start(run, R1)
    before = snapshot()
    result = run("link", R1, "--code", "ac_0000000000000000", "--state", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert result.exit_code == 2
    assert "inconnu" in result.stderr
    assert snapshot() == before
    assert posts(sandbox) == []


def test_denied_consent_links_nothing(run, sandbox):
    denial = sandbox.oauth_authorize(start(run, R1), decision="deny")
    result = run("link", R1, "--return-url", denial["redirect_url"])
    assert result.exit_code == 3
    assert "refusé" in result.stderr and f"sarapay link {R1} --email" in result.stderr
    assert practitioner(R1).account_id is None
    assert posts(sandbox) == []
    assert audit("link.oauth")[0].outcome == "cancelled"


def test_unknown_or_reused_code_is_a_stripe_refusal_with_how_to_start_again(run, sandbox):
    state = query(start(run, R1))["state"]
    result = run("link", R1, "--code", "ac_doesnotexist0000", "--state", state)
    assert result.exit_code == 5
    assert f"sarapay link {R1} --email" in result.stderr
    assert practitioner(R1).account_id is None

    # A code already exchanged (by someone else's run) is refused the same way.
    consent = sandbox.oauth_authorize(start(run, R2))
    assert run("link", R2, "--code", consent["code"], "--state", consent["state"]).exit_code == 0
    fresh = query(start(run, R1))["state"]
    reused = run("link", R1, "--code", consent["code"], "--state", fresh)
    assert reused.exit_code == 5
    assert "déjà utilisé" in reused.stderr
    assert practitioner(R1).account_id is None


def test_no_connect_client_id_is_a_configuration_error(run, sandbox, monkeypatch):
    monkeypatch.delenv("SARAPAY_CLIENT_ID")
    result = run("link", R1, "--email", EMAIL)
    assert result.exit_code == 4
    assert "set-client-id" in result.stderr
    assert snapshot() == {"practitioners": [], "oauth_states": []}
    assert result.stdout == ""


def test_already_linked_practitioner_is_not_relinked(run, sandbox):
    account = link_oauth(run, sandbox, R1)
    before, count = snapshot(), len(posts(sandbox))
    for args in (["--email", EMAIL], ["--new", "--email", EMAIL]):
        result = run("link", R1, *args)
        assert result.exit_code == 2
        assert account in result.stderr and f"sarapay unlink {R1}" in result.stderr
    assert snapshot() == before
    assert len(posts(sandbox)) == count


# --- created account and onboarding ------------------------------------------------------------------------


def test_new_account_onboarding_then_check_until_healthy(run, sandbox):
    result = run("link", R1, "--new", "--email", EMAIL, "--name", "Dr Martin")
    assert result.exit_code == 0, result.stderr
    row = practitioner(R1)
    account = row.account_id
    assert row.link_method == "created" and account.startswith("acct_")
    first_link = result.stdout.strip()
    assert first_link.startswith(f"{sandbox.url}/setup/{account}/")
    assert f"sarapay link {R1} --check" in result.stderr

    (create,) = posts(sandbox, "/v1/accounts")
    assert create["idempotency_key"] == f"sarapay:account-create:{R1}"
    # Only opaque ids go to Stripe: the RPPS and sarapay's marker, never the name.
    assert create["params"]["metadata"] == {"rpps": R1, "sarapay": "1"}
    assert "Dr Martin" not in json.dumps(create["params"])
    assert create["params"]["email"] == EMAIL

    check = run("link", R1, "--check")
    assert check.exit_code == 0, check.stderr
    lines = check.stdout.splitlines()
    assert "✗ Paiements par carte désactivés" in lines
    assert "✗ Inscription Stripe incomplète" in lines
    fresh = lines[-1]
    assert fresh.startswith(f"{sandbox.url}/setup/{account}/") and fresh != first_link
    assert "Inscription à terminer" in check.stderr

    sandbox.complete_onboarding(account)
    links_before = len(posts(sandbox, "/v1/account_links"))
    healthy = run("link", R1, "--check")
    assert healthy.exit_code == 0, healthy.stderr
    assert [line for line in healthy.stdout.splitlines() if line.startswith(("✓", "✗"))] == [
        "✓ Paiements par carte activés",
        "✓ Versements vers la banque activés",
        "✓ Inscription Stripe complétée",
        "✓ Aucune information demandée par Stripe",
    ]
    assert "bon état" in healthy.stderr
    assert len(posts(sandbox, "/v1/account_links")) == links_before


def test_check_json_is_stable_and_language_independent(run, sandbox):
    assert run("link", R1, "--new", "--email", EMAIL).exit_code == 0
    account = practitioner(R1).account_id
    fr = json.loads(run("link", R1, "--check", "--json").stdout)
    en = json.loads(run("--lang", "en", "link", R1, "--check", "--json").stdout)
    assert fr.keys() == en.keys()
    assert fr["account_id"] == account and fr["link_method"] == "created" and fr["controlled"] is True
    assert (fr["healthy"], fr["charges_enabled"], fr["payouts_enabled"], fr["details_submitted"]) == (False, False, False, False)
    assert "external_account" in fr["currently_due"]
    assert fr["onboarding_url"].startswith(f"{sandbox.url}/setup/{account}/")
    assert fr["onboarding_expires_at"].endswith("Z")

    sandbox.complete_onboarding(account)
    ok = json.loads(run("link", R1, "--check", "--json").stdout)
    assert ok["healthy"] is True and ok["currently_due"] == [] and ok["onboarding_url"] is None


def test_retrying_account_creation_never_creates_a_second_account(run, sandbox):
    assert run("link", R1, "--new", "--email", EMAIL).exit_code == 0
    account = practitioner(R1).account_id
    assert run("unlink", R1, "--yes").exit_code == 0
    # Same RPPS, same details, within Stripe's 24 h: the same creation key, so Stripe replays the account.
    again = run("link", R1, "--new", "--email", EMAIL)
    assert again.exit_code == 0, again.stderr
    assert practitioner(R1).account_id == account
    creations = posts(sandbox, "/v1/accounts")
    assert len(creations) == 2 and creations[1]["replayed"] is True


# --- attaching an existing account -----------------------------------------------------------------------


def test_attach_an_account_connected_to_the_platform(run, sandbox, stripe_client):
    account = stripe_client().v1.accounts.create(params={"country": "FR", "type": "standard"}).id
    result = run("link", R1, "--account", account, "--email", EMAIL)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == account
    row = practitioner(R1)
    assert (row.account_id, row.link_method, row.email) == (account, "attached", EMAIL)
    # Re-attaching the same account is harmless.
    assert run("link", R1, "--account", account).exit_code == 0


def test_attach_an_account_not_connected_to_the_platform_is_refused(run, sandbox, stripe_client):
    foreign = stripe_client(key="sk_test_anotherPlatform01").v1.accounts.create(params={"country": "FR", "type": "standard"}).id
    sandbox.clear_requests()
    result = run("link", R1, "--account", foreign)
    assert result.exit_code == 5
    assert "n'est pas connecté à la plateforme" in result.stderr and foreign in result.stderr
    assert practitioner(R1) is None
    assert posts(sandbox) == []


# --- unlink --------------------------------------------------------------------------------------------


def test_unlink_oauth_account_deauthorizes_then_the_account_is_out_of_reach(run, sandbox, stripe_client):
    import stripe

    account = link_oauth(run, sandbox, R1)
    client = stripe_client()
    client.v1.balance.retrieve(options={"stripe_account": account})  # reachable while linked

    result = run("unlink", R1, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Praticien" in result.stderr and account in result.stderr  # the banner
    (deauth,) = posts(sandbox, "/oauth/deauthorize")
    assert deauth["params"] == {"client_id": TEST_CLIENT_ID, "stripe_user_id": account}
    row = practitioner(R1)
    assert (row.account_id, row.link_method) == (None, None)
    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": account})
    assert audit("unlink")[0].outcome == "ok"
    # Now unlinked: a second unlink is bad input.
    again = run("unlink", R1, "--yes")
    assert again.exit_code == 2 and "n'est pas lié" in again.stderr


def test_unlink_dry_run_shows_the_request_and_changes_nothing(run, sandbox):
    account = link_oauth(run, sandbox, R1)
    before, count = snapshot(), len(posts(sandbox))
    result = run("unlink", R1, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "POST /oauth/deauthorize" in result.stdout and f"stripe_user_id={account}" in result.stdout
    assert TEST_KEY not in result.stdout + result.stderr
    assert snapshot() == before and len(posts(sandbox)) == count
    assert audit("unlink")[0].outcome == "dry_run"


def test_unlink_sends_exactly_the_request_its_dry_run_shows(run, sandbox):
    """One description of the request (stripe_gateway.deauthorize_request): the dry run's lines are the form
    the sandbox then receives, to the field."""
    link_oauth(run, sandbox, R1)
    dry = run("unlink", R1, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    lines = [line.strip() for line in dry.stdout.splitlines()]
    method, path = lines[lines.index("POST /oauth/deauthorize")].split(" ")
    shown = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("Authorization"))
    count = len(posts(sandbox))
    assert run("unlink", R1, "--yes").exit_code == 0
    [sent] = posts(sandbox)[count:]
    assert (sent["method"], sent["path"], sent["params"]) == (method, path, shown)
    assert set(shown) == {"client_id", "stripe_user_id"}


def test_unlink_asks_for_confirmation(run, sandbox, monkeypatch):
    link_oauth(run, sandbox, R1)
    before, count = snapshot(), len(posts(sandbox))
    # No terminal and no --yes: nothing moves.
    no_tty = run("unlink", R1)
    assert no_tty.exit_code == 3 and "--yes" in no_tty.stderr
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    refused = run("unlink", R1, input="n\n")
    assert refused.exit_code == 3
    assert snapshot() == before and len(posts(sandbox)) == count
    assert [e.outcome for e in audit("unlink")] == ["cancelled", "cancelled"]
    accepted = run("unlink", R1, input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert practitioner(R1).account_id is None


def test_unlink_refused_while_holds_are_uncaptured_unless_forced(run, sandbox):
    account = link_oauth(run, sandbox, R1)
    with ledger() as book:
        book.insert_consultation(
            "TC-HQLD23", rpps=R1, scheduled_at="2026-12-01T10:00:00+01:00", state="uncaptured",
            paid_online=True, max_cents=2500, authorised_cents=2500, account_id=account,
        )
    before, count = snapshot(), len(posts(sandbox))
    result = run("unlink", R1, "--yes")
    assert result.exit_code == 2
    assert "1 empreinte" in result.stderr and "capturez-les ou annulez-les" in result.stderr
    assert snapshot() == before and len(posts(sandbox)) == count

    forced = run("unlink", R1, "--yes", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert len(posts(sandbox, "/oauth/deauthorize")) == 1
    assert practitioner(R1).account_id is None


def test_unlink_created_account_only_forgets_it_locally(run, sandbox, stripe_client):
    assert run("link", R1, "--new", "--email", EMAIL).exit_code == 0
    account = practitioner(R1).account_id
    count = len(posts(sandbox))
    result = run("unlink", R1, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "reste sur Stripe" in result.stderr and f"--account {account}" in result.stderr
    assert len(posts(sandbox)) == count  # nothing sent: the platform cannot deauthorise its own account
    assert practitioner(R1).account_id is None
    # The account lives on, still reachable by the platform, and can be attached again.
    assert stripe_client().v1.accounts.retrieve(account).id == account
    assert run("link", R1, "--account", account).exit_code == 0


def test_revoked_access_check_says_how_to_relink_and_unlink_still_works(run, sandbox, stripe_client):
    account = link_oauth(run, sandbox, R1)
    # The practitioner disconnects the platform from their own dashboard.
    stripe_client().oauth.deauthorize(params={"stripe_user_id": account})
    check = run("link", R1, "--check")
    assert check.exit_code == 5
    assert "révoqué" in check.stderr and f"sarapay unlink {R1}" in check.stderr
    unlink = run("unlink", R1, "--yes")
    assert unlink.exit_code == 0, unlink.stderr
    assert "déjà révoqué" in unlink.stderr
    assert practitioner(R1).account_id is None


def test_unlink_unknown_practitioner(run, sandbox):
    result = run("unlink", R1, "--yes")
    assert result.exit_code == 2
    assert R1 in result.stderr and "sarapay link" in result.stderr
    assert posts(sandbox) == []


# --- bad input: one sentence, exit 2, nothing opened, nothing sent ---------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        ([R1], "Indiquez ce qu'il faut faire"),
        ([R1, "--code", "ac_1234567890"], "--code demande aussi --state"),
        ([R1, "--state", "abcdefghijkl"], "--state demande aussi --code"),
        ([R1, "--new", "--account", "acct_1234567890"], "--new et --account ne vont pas ensemble"),
        ([R1, "--check", "--email", EMAIL], "--check et --email ne vont pas ensemble"),
        ([R1, "--check", "--new"], "ne vont pas ensemble"),
        ([R1, "--code", "ac_1234567890", "--state", "abcdefghijkl", "--email", EMAIL], "--code et --email"),
        ([R1, "--new"], "--new demande aussi --email"),
        ([R1, "--email", "dr.martin@example"], "adresse e-mail"),
        ([R1, "--new", "--email", "pas une adresse"], "adresse e-mail"),
        ([R1[:-1] + str((int(R1[-1]) + 1) % 10), "--email", EMAIL], "clé du numéro RPPS"),
        (["123456789", "--email", EMAIL], "ADELI"),
        (["abc", "--check"], "n'est pas un numéro RPPS"),
        ([R1, "--account", "acct_"], "n'est pas un identifiant de compte Stripe"),
        ([R1, "--code", "code123456", "--state", "abcdefghijkl"], "code d'autorisation"),
        ([R1, "--code", "ac_1234567890", "--state", "a b"], "state"),
        ([R1, "--return-url", "https://example.fr/back?foo=1"], "adresse de retour"),
        ([R1, "--email", EMAIL, "--name", "x" * 200], "nom"),
    ],
)
def test_bad_input_is_refused_before_anything_happens(run, sandbox, args, expected):
    result = run("link", *args)
    assert result.exit_code == 2, result.stderr
    assert expected.lower() in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1  # one sentence
    assert result.stdout == ""
    assert sandbox.requests() == []
    # Nothing registered. A mistyped value is a refused command (one audit row); a combination of options
    # that does not make a command is not a command at all (no ledger opened).
    if settings.ledger_path().exists():
        with ledger() as book:
            assert book.list_practitioners() == []
            assert [(row.command.split(".")[0], row.outcome) for row in book.list_audit(10)] == [("link", "refused")]


def test_bad_input_in_english(run, sandbox):
    result = run("--lang", "en", "link", R1, "--check", "--email", EMAIL)
    assert result.exit_code == 2
    assert "do not go together" in result.stderr
