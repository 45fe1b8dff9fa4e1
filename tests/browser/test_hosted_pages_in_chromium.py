"""Clicking through the sandbox's hosted pages in Chromium, with the real sarapay commands around them.

A practitioner links their account through the OAuth consent page and pastes nothing but what the return
page shows; a patient leaves a card hold on a phone; a card is declined, then another has no funds; a link
expires and a new one works; a created account is onboarded; and all of it again with JavaScript off.
Screenshots: tests/artifacts/screenshots/ (tests/browser/conftest.py).
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from sarapay.rpps import make_test_rpps

from .conftest import text

pytestmark = pytest.mark.browser

NAME = "Dre Claire Martin"
AT = "01/12/2099 10:30"  # Paris time; a Tuesday
WHEN = "mardi 1er décembre 2099 à 10:30 (heure de Paris)"
SIREN = "123 456 782"  # made up, with a valid key
IBAN = "FR14 2004 1010 0505 0001 3M02 606"  # Stripe's documented French test IBAN
DAY = 86400


def linked(run, sandbox, rpps: str, name: str = NAME) -> None:
    """A practitioner linked through OAuth, their account named as they typed it at sign-up."""
    url = run("link", rpps, "--email", "dre.martin@example.fr").stdout.strip()
    consent = sandbox.oauth_authorize(url, **{"stripe_user[business_name]": name})
    assert run("link", rpps, "--code", consent["code"], "--state", consent["state"]).exit_code == 0


def planned(run, rpps: str) -> dict:
    result = run("plan", rpps, "--at", AT, "--paid", "--patient-ref", "P-0042", "--email", "patient@example.fr",
                 "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def state_of(run, consultation: str) -> str:
    result = run("status", consultation, "--refresh", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["state"]


def shell_words(command: str) -> list[str]:
    """The command as a shell reads it (its lines are joined by backslash-newlines)."""
    return shlex.split(command.replace("\\\n", " "))


def fill_card(page, number: str) -> None:
    page.fill("#card", number)
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")
    page.get_by_role("button", name=re.compile("Autoriser l'empreinte")).click()


def sign_up(page, *, siren: str = SIREN, iban: str = IBAN, email: bool = True) -> None:
    if email:
        page.fill("#email", "dre.martin@example.fr")
    page.fill("#business_name", NAME)
    page.check("input[name=business_type][value=individual]")
    page.fill("#siren", siren)
    page.select_option("#mcc", "8011")
    page.fill("#url", "www.cabinet-martin.example.fr")
    page.fill("#iban", iban)
    page.check("#tos")


# --------------------------------------------------------------------------- the practitioner


def test_oauth_consent_then_the_pasted_command_links_the_practitioner(run, sandbox, pages):
    rpps = make_test_rpps(501)
    url = run("link", rpps, "--email", "dre.martin@example.fr").stdout.strip()
    desktop = pages.open("desktop")
    desktop.goto(url)
    pages.shot(desktop, "consent-desktop")
    page = pages.open("phone")
    page.goto(url)
    assert "MODE TEST" in text(page) and "Reliez votre compte Stripe" in text(page)
    assert page.input_value("#email") == "dre.martin@example.fr"
    sign_up(page, email=False, siren="123 456 789")
    page.get_by_role("button", name="Créer mon compte et autoriser l'accès").click()
    assert "Ce numéro SIREN n'existe pas" in text(page)
    assert page.evaluate("document.activeElement.id") == "siren"  # the cursor waits where to correct
    pages.shot(page, "consent-siren-refused")
    page.fill("#siren", SIREN)
    page.check("#tos")
    page.get_by_role("button", name="Créer mon compte et autoriser l'accès").click()
    page.wait_for_url(re.compile(r"/_sandbox/oauth/return\?"))
    assert "Accès autorisé" in text(page)
    command = shell_words(page.locator("#command").inner_text())
    assert command[:4] == ["sarapay", "link", rpps, "--code"] and command[4].startswith("ac_")
    pages.shot(page, "oauth-return")
    result = run(*command[1:])
    assert result.exit_code == 0, result.stderr
    check = run("link", rpps, "--check", "--json")
    assert json.loads(check.stdout)["healthy"] is True


def test_refusing_on_the_consent_page_is_said_in_french(run, sandbox, pages):
    rpps = make_test_rpps(502)
    page = pages.open("phone")
    page.goto(run("link", rpps, "--email", "dre.martin@example.fr").stdout.strip())
    page.get_by_role("button", name="Refuser").click()  # nothing filled in: refusing needs nothing
    page.wait_for_url(re.compile(r"error=access_denied"))
    words = text(page)
    assert "Accès refusé" in words and "rien n'a été créé" in words
    assert "denied" not in words.split("Pour le support")[0]


def test_a_created_account_is_onboarded_and_a_reused_link_stays_in_the_sandbox(run, sandbox, pages):
    rpps = make_test_rpps(503)
    result = run("link", rpps, "--new", "--email", "dr.durand@example.fr")
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip().splitlines()[-1]
    page = pages.open("phone")
    page.goto(url)
    words = text(page)
    assert "le compte bancaire (IBAN) qui reçoit les versements" in words and "tos_acceptance" not in words
    pages.shot(page, "onboarding")
    sign_up(page, email=False, iban="FR14 2004 1010 0505 0001 3M02 600")
    page.get_by_role("button", name="Terminer l'inscription").click()
    assert "Cet IBAN n'est pas valide" in text(page)
    page.fill("#iban", IBAN)
    page.check("#tos")
    page.get_by_role("button", name="Terminer l'inscription").click()
    page.wait_for_url(re.compile(r"/_sandbox/onboarding/acct_\w+/return\?rpps=" + rpps))
    assert "Inscription terminée" in text(page) and "FR14 •••• 2606" in text(page)
    pages.shot(page, "onboarding-done")
    assert json.loads(run("link", rpps, "--check", "--json").stdout)["healthy"] is True
    page.goto(url)  # the link served once: the platform's refresh page, in the sandbox
    assert re.search(r"/_sandbox/onboarding/acct_\w+/refresh", page.url)
    assert "Ce lien d'inscription a déjà servi ou a expiré" in text(page)


# --------------------------------------------------------------------------- the patient


def test_a_card_hold_on_a_phone(run, sandbox, pages):
    rpps = make_test_rpps(511)
    linked(run, sandbox, rpps)
    consultation = planned(run, rpps)
    desktop = pages.open("desktop")
    desktop.goto(consultation["url"])
    pages.shot(desktop, "checkout-desktop")
    page = pages.open("phone")
    page.goto(consultation["url"])
    words = text(page)
    for expected in ("MODE TEST", NAME, WHEN, "25,00 €", "Rien n'est débité aujourd'hui", "25,00 € au plus",
                     "au plus tard 7 jours après votre autorisation", consultation["id"]):
        assert expected in words
    assert "Payer" not in words and "open" not in words.split()
    # Laid out for the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    pages.shot(page, "checkout-phone")
    assert page.input_value("#email") == "patient@example.fr"
    fill_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/c/done/cs_test_"))
    assert "Empreinte enregistrée" in text(page) and "Rien n'a été débité" in text(page)
    pages.shot(page, "hold-done")
    assert state_of(run, consultation["id"]) == "uncaptured"


def test_a_declined_card_then_one_without_funds_then_a_good_one(run, sandbox, pages):
    rpps = make_test_rpps(512)
    linked(run, sandbox, rpps)
    consultation = planned(run, rpps)
    page = pages.open("phone")
    page.goto(consultation["url"])
    fill_card(page, "4000 0000 0000 0002")
    words = text(page)
    assert "Carte refusée par votre banque. Essayez une autre carte, ou contactez votre banque." in words
    assert "generic_decline" not in page.content()
    assert page.evaluate("document.activeElement.id") == "card"
    pages.shot(page, "declined")
    pages.shot(page, "declined-screen", full_page=False)  # the phone scrolled to the card field
    assert state_of(run, consultation["id"]) == "incomplete"
    fill_card(page, "4000 0000 0000 9995")
    assert "le solde ou le plafond de votre carte est insuffisant" in text(page)
    fill_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/c/done/"))
    assert state_of(run, consultation["id"]) == "uncaptured"


def test_an_expired_link_says_what_to_do_and_a_new_link_works(run, sandbox, pages):
    rpps = make_test_rpps(513)
    linked(run, sandbox, rpps)
    consultation = planned(run, rpps)
    sandbox.advance(DAY + 60)
    page = pages.open("phone")
    page.goto(consultation["url"])
    assert "Ce lien a expiré : demandez un nouveau lien à votre praticien." in text(page)
    assert page.locator("form").count() == 0
    pages.shot(page, "expired")
    fresh = run("pay-link", consultation["id"], "--json")
    assert fresh.exit_code == 0, fresh.stderr
    page.goto(json.loads(fresh.stdout)["url"])
    fill_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/c/done/"))


def test_leaving_the_payment_page_and_coming_back(run, sandbox, pages):
    rpps = make_test_rpps(514)
    linked(run, sandbox, rpps)
    consultation = planned(run, rpps)
    page = pages.open("phone")
    page.goto(consultation["url"])
    page.get_by_role("link", name="← Retour").click()
    page.wait_for_url(re.compile(r"/c/cancel/cs_test_"))
    assert "rien n'a été réservé sur votre carte" in text(page)
    page.get_by_role("link", name="Revenir à la page de paiement").click()
    fill_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/c/done/"))


# --------------------------------------------------------------------------- JavaScript off


def test_everything_works_without_javascript(run, sandbox, pages):
    # The practitioner: consent with a new account, then the command from the return page.
    rpps = make_test_rpps(521)
    page = pages.open("phone", javascript=False)
    page.goto(run("link", rpps, "--email", "dre.martin@example.fr").stdout.strip())
    sign_up(page, email=False)
    page.get_by_role("button", name="Créer mon compte et autoriser l'accès").click()
    page.wait_for_url(re.compile(r"/_sandbox/oauth/return\?"))
    assert run(*shell_words(page.locator("#command").inner_text())[1:]).exit_code == 0
    # Another practitioner: a created account, onboarded (with a mistake first).
    other = make_test_rpps(522)
    page.goto(run("link", other, "--new", "--email", "dr.durand@example.fr").stdout.strip().splitlines()[-1])
    sign_up(page, email=False, siren="1234")
    page.get_by_role("button", name="Terminer l'inscription").click()
    assert "Le SIREN compte 9 chiffres." in text(page)
    page.fill("#siren", SIREN)
    page.check("#tos")
    page.get_by_role("button", name="Terminer l'inscription").click()
    assert "Inscription terminée" in text(page)
    # The patient: a refusal, then a hold.
    consultation = planned(run, rpps)
    page.goto(consultation["url"])
    assert NAME in text(page) and WHEN in text(page)
    fill_card(page, "4000 0000 0000 0002")
    assert "Carte refusée par votre banque" in text(page)
    pages.shot(page, "declined-nojs")
    fill_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/c/done/"))
    assert "Empreinte enregistrée" in text(page)
    pages.shot(page, "hold-done-nojs")
    assert state_of(run, consultation["id"]) == "uncaptured"
    # An expired link, still a page and not raw JSON.
    late = planned(run, rpps)
    sandbox.advance(DAY + 60)
    page.goto(late["url"])
    assert "Ce lien a expiré : demandez un nouveau lien à votre praticien." in text(page)
