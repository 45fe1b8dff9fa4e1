"""Against the sandbox, sarapay sends people to the sandbox's own pages, never to Stripe's dashboard or to a
dead placeholder: the OAuth return page (with the RPPS, so it shows the whole `sarapay link` command), the
onboarding return and refresh pages, and (tests/cli/test_return_urls.py) Checkout's success and cancel pages.
Against Stripe, nothing changes: tests/test_settings.py and test_return_urls.py hold the placeholders.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import urllib.request
from urllib.parse import parse_qs, urlsplit

from sarapay import settings
from sarapay.rpps import make_test_rpps

R = make_test_rpps(301)


def read_page(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        return html.unescape(resp.read().decode())


def test_the_oauth_return_page_shows_the_exact_command_that_finishes_the_link(run, sandbox):
    result = run("link", R, "--email", "dre.martin@example.fr")
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    assert redirect == f"{sandbox.url}/_sandbox/oauth/return?rpps={R}"
    consent = sandbox.oauth_authorize(url)
    page = read_page(consent["redirect_url"])
    shown = re.search(r'<pre class="cmd" id="command">([^<]+)</pre>', page).group(1)
    words = shlex.split(shown.replace("\\\n", " "))  # what a shell makes of the backslash-newlines
    assert words == ["sarapay", "link", R, "--code", consent["code"], "--state", consent["state"]]
    linked = run(*words[1:])
    assert linked.exit_code == 0, linked.stderr


def test_onboarding_links_come_back_to_the_sandbox_not_to_stripes_dashboard(run, sandbox):
    result = run("link", R, "--new", "--email", "dre.martin@example.fr")
    assert result.exit_code == 0, result.stderr
    (link,) = [r for r in sandbox.requests() if r["path"] == "/v1/account_links"]
    account = link["params"]["account"]
    assert link["params"]["return_url"] == f"{sandbox.url}/_sandbox/onboarding/{account}/return?rpps={R}"
    assert link["params"]["refresh_url"] == f"{sandbox.url}/_sandbox/onboarding/{account}/refresh?rpps={R}"
    assert "dashboard.stripe.com" not in json.dumps(sandbox.requests())
    page = read_page(link["params"]["refresh_url"])
    assert "Ce lien d'inscription a déjà servi ou a expiré" in page and f"sarapay link {R} --check" in page
    # `--check` issues the next link the same way.
    assert run("link", R, "--check").exit_code == 0
    last = [r for r in sandbox.requests() if r["path"] == "/v1/account_links"][-1]
    assert last["params"]["return_url"].startswith(f"{sandbox.url}/_sandbox/onboarding/{account}/return")


def test_only_a_loopback_api_base_is_the_sandbox():
    assert settings.sandbox_base("http://127.0.0.1:12111/") == "http://127.0.0.1:12111"
    assert settings.sandbox_base("http://localhost:8080") == "http://localhost:8080"
    for stripe_like in (None, "", "https://api.stripe.com", "https://stripe-proxy.example.fr"):
        assert settings.sandbox_base(stripe_like) is None
