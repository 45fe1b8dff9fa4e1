"""The portal's return pages: configured once, sent with every Checkout Session."""

from __future__ import annotations

import json

from sarapay import settings
from tests.cli.payments_helpers import link_practitioner, plan_paid, posts

PORTAL_THANKS = "https://portail.example.fr/paiement/merci"
PORTAL_BACK = "https://portail.example.fr/paiement/annule"


def _checkout_params(sandbox) -> dict:
    [create] = [r for r in posts(sandbox) if r["path"] == "/v1/checkout/sessions"]
    return create["params"]


def test_checkout_sends_the_patient_back_to_the_configured_portal_pages(run, sandbox):
    assert run("config", "set-return-urls", "--success", PORTAL_THANKS, "--cancel", PORTAL_BACK).exit_code == 0
    doctor = link_practitioner(sandbox, 61)
    plan_paid(run, doctor["rpps"])
    params = _checkout_params(sandbox)
    assert (params["success_url"], params["cancel_url"]) == (PORTAL_THANKS, PORTAL_BACK)


def test_on_the_sandbox_without_configuration_the_patient_lands_on_the_sandboxs_own_pages(run, sandbox):
    doctor = link_practitioner(sandbox, 62)
    plan_paid(run, doctor["rpps"])
    params = _checkout_params(sandbox)
    assert params["success_url"] == f"{sandbox.url}/c/done/{{CHECKOUT_SESSION_ID}}"
    assert params["cancel_url"] == f"{sandbox.url}/c/cancel/{{CHECKOUT_SESSION_ID}}"


def test_against_stripe_without_configuration_the_return_pages_are_neutral_placeholders(monkeypatch):
    # Real Stripe (no API base, or one that is not a loopback sandbox): nothing invented, placeholders
    # until `config set-return-urls` names the portal's pages.
    for base in (None, "https://api.stripe.com", "https://stripe-proxy.example.fr"):
        if base:
            monkeypatch.setenv("SARAPAY_API_BASE", base)
        config = settings.load_config()
        assert (config.success_url, config.cancel_url) == (settings.DEFAULT_SUCCESS_URL, settings.DEFAULT_CANCEL_URL)
    assert "teleconsultation.invalid" in settings.DEFAULT_SUCCESS_URL


def test_configured_return_pages_win_on_the_sandbox_too(monkeypatch, sandbox):
    monkeypatch.setenv("SARAPAY_API_BASE", sandbox.url)
    settings.set_config_value("success_url", PORTAL_THANKS)
    assert settings.load_config().success_url == PORTAL_THANKS
    assert settings.load_config().cancel_url == f"{sandbox.url}/c/cancel/{{CHECKOUT_SESSION_ID}}"


def test_a_cleartext_or_malformed_return_page_is_refused_and_nothing_is_stored(run):
    for bad in ("http://portail.example.fr/merci", "portail.example.fr", "ftp://x.fr/merci"):
        result = run("config", "set-return-urls", "--success", bad)
        assert result.exit_code == 2
        assert bad in result.stderr and "https" in result.stderr
    assert not settings.config_path().exists() or "success_url" not in json.loads(settings.config_path().read_text())


def test_set_return_urls_needs_at_least_one_address(run):
    result = run("config", "set-return-urls")
    assert result.exit_code == 2
    assert "--success" in result.stderr
