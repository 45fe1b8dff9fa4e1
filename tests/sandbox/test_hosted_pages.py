"""The sandbox's hosted pages over plain HTTP, as a browser without JavaScript would use them.

Checkout (the card hold, its refusals, an expired link, the pages after it), the OAuth consent page (a new
account's sign-up form, an existing account, a refusal) and its return page, the Account Link onboarding
and the platform's stand-in pages. Every form is a POST answered in HTML (or a 303 to the next page), in
French, with a MODE TEST banner, a viewport for phones, no script and nothing loaded from outside.
tests/browser/ clicks through the same pages in Chromium.
"""

from __future__ import annotations

from http.client import HTTPConnection
import html
import re
import urllib.parse
from typing import Any

import pytest

from .helpers import DECLINED_CARD, GOOD_CARD, INSUFFICIENT_FUNDS_CARD, create_session

NAME = "Dre Claire Martin"
SIREN = "123456782"  # made up, Luhn-valid
IBAN = "FR1420041010050500013M02606"  # Stripe's documented French test IBAN
RPPS = "10000000009"  # synthetic (domain.md)


@pytest.fixture
def client(stripe_client):
    return stripe_client()


def fetch(base: str, method: str, path: str, data: dict[str, Any] | None = None) -> tuple[int, dict[str, str], str]:
    """One request, redirects not followed: (status, headers in lower case, body text)."""
    parts = urllib.parse.urlsplit(base)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urllib.parse.urlencode(data) if data is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "pytest-browserless"} if body else {}
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    finally:
        conn.close()


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_page_for_people(status_headers_body: tuple[int, dict[str, str], str]) -> str:
    """What every hosted page owes its reader; returns the body."""
    _, headers, body = status_headers_body
    assert headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in body and 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert "MODE TEST" in body
    assert "<script" not in body.lower()
    # Nothing loaded from elsewhere: no src, stylesheet, font or url() outside the page itself.
    assert not re.search(r"""(src=|@import|url\()\s*["']?\s*(https?:)?//""", body, re.I)
    assert '<link' not in body
    assert "script-src" not in headers["content-security-policy"] and "default-src 'none'" in headers["content-security-policy"]
    assert "{" not in re.sub(r"<style>.*?</style>", "", body, flags=re.S), "an unfilled template placeholder"
    return body


def text_of(body: str) -> str:
    """The page's words, tags dropped and spaces folded (no-break spaces included)."""
    visible = re.sub(r"<(style|title)>.*?</\1>", " ", body, flags=re.S)
    words = html.unescape(re.sub(r"<[^>]+>", " ", visible))
    return " ".join(words.replace("\u00a0", " ").replace("\u202f", " ").split())


def connected(sandbox, client, *, name: str | None = NAME) -> str:
    """A Standard account connected through OAuth, with the business name its owner typed at sign-up."""
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-pages"})
    extra = {"stripe_user[business_name]": name} if name else {}
    code = sandbox.oauth_authorize(url, **extra)["code"]
    return client.oauth.token(params={"grant_type": "authorization_code", "code": code}).stripe_user_id


def session_for(client, acct: str, *, scheduled_at: str = "2026-12-01T09:30:00Z", **extra: Any):
    return create_session(client, acct, 2500, metadata={"scheduled_at": scheduled_at, "consultation_id": "TC-8F3K2Q"},
                          client_reference_id="TC-8F3K2Q", customer_email="patient@example.fr", **extra)


def card(number: str, **overrides: str) -> dict[str, str]:
    return {"email": "patient@example.fr", "card": number, "exp": "12 / 34", "cvc": "123", **overrides}


# --------------------------------------------------------------------------- Checkout


def test_the_checkout_page_says_who_when_how_much_and_what_a_hold_means(sandbox, client):
    session = session_for(client, connected(sandbox, client))
    assert session.url == f"{sandbox.url}/c/pay/{session.id}"
    body = assert_page_for_people(fetch(sandbox.url, "GET", path_of(session.url)))
    words = text_of(body)
    assert NAME in words  # the account's own name, never sent by the platform
    assert "mardi 1er décembre 2026 à 10:30 (heure de Paris)" in words  # 09:30 UTC in winter
    assert "25,00 €" in words and "Empreinte bancaire" in words
    assert "Rien n'est débité aujourd'hui" in words and "25,00 € au plus" in words
    assert "la réserve est libérée, au plus tard 7 jours après votre autorisation" in words
    assert "Autoriser l'empreinte de 25,00 €" in words and "Payer" not in words
    assert "TC-8F3K2Q" in words and 'value="patient@example.fr"' in body
    assert f'method="post" action="/c/pay/{session.id}"' in body
    assert "open" not in words.split() and "EUR" not in words  # no raw status, no raw currency


def test_summer_time_and_a_missing_name_or_date(sandbox, client):
    session = session_for(client, connected(sandbox, client, name=None), scheduled_at="2026-07-01T08:00:00Z")
    words = text_of(fetch(sandbox.url, "GET", path_of(session.url))[2])
    assert "mercredi 1er juillet 2026 à 10:00 (heure de Paris)" in words  # UTC+2 in summer
    assert "Votre praticien" in words
    bare = create_session(client, connected(sandbox, client))
    words = text_of(fetch(sandbox.url, "GET", path_of(bare.url))[2])
    assert "date communiquée par votre praticien" in words and NAME in words


def test_a_good_card_posted_without_javascript_holds_and_goes_to_the_success_page(sandbox, client):
    acct = connected(sandbox, client)
    session = session_for(client, acct)
    status, headers, _ = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card("4242 4242 4242 4242"))
    assert status == 303 and headers["location"] == f"https://example.org/ok?cs={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]},
                                                options={"stripe_account": acct})
    assert done.status == "complete" and done.payment_intent.status == "requires_capture"
    assert done.customer_details.email == "patient@example.fr"
    # The link, opened again, says it is done rather than asking for a card.
    words = text_of(fetch(sandbox.url, "GET", path_of(session.url))[2])
    assert "Empreinte enregistrée" in words and "Rien n'a été débité" in words and "Numéro de carte" not in words


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (DECLINED_CARD, "Carte refusée par votre banque. Essayez une autre carte, ou contactez votre banque."),
        (INSUFFICIENT_FUNDS_CARD, "le solde ou le plafond de votre carte est insuffisant"),
        ("4000000000000069", "Cette carte a expiré."),
        ("4000000000000127", "Le cryptogramme visuel (CVC) est incorrect"),
        ("4000000000009987", "Carte refusée par votre banque."),  # lost card: the patient is told no more
        ("4242424242424241", "Le numéro de carte est incorrect"),
    ],
)
def test_a_refusal_is_said_in_french_and_the_page_stays_open_for_another_card(sandbox, client, number, message):
    acct = connected(sandbox, client)
    session = session_for(client, acct)
    answer = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card(number))
    status, _, body = answer
    assert status in (402, 422)
    words = text_of(assert_page_for_people(answer))
    assert message in words
    for code in ("generic_decline", "insufficient_funds", "lost_card", "card_declined", "incorrect_number"):
        assert code not in body
    assert 'value="patient@example.fr"' in body and 'autofocus' in body  # the cursor goes back to the card
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).status == "open"
    status, headers, _ = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card(GOOD_CARD))
    assert status == 303


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "patient"}, "Indiquez une adresse e-mail valide"),
        ({"card": ""}, "Indiquez le numéro de votre carte."),
        ({"exp": "13/30"}, "La date d'expiration s'écrit MM / AA"),
        ({"exp": "01/20"}, "Cette carte a expiré : sa date d'expiration est passée."),
        ({"cvc": "1"}, "Le cryptogramme compte 3 chiffres"),
    ],
)
def test_a_mistyped_form_is_sent_back_with_what_to_correct_and_nothing_is_created(sandbox, client, overrides, message):
    acct = connected(sandbox, client)
    session = session_for(client, acct)
    status, _, body = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card(GOOD_CARD, **overrides))
    assert status == 422 and message in text_of(body)
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).payment_intent is None


def test_an_expired_link_says_to_ask_the_practitioner_for_a_new_one(sandbox, client):
    session = session_for(client, connected(sandbox, client))
    sandbox.advance(24 * 3600 + 1)
    answer = fetch(sandbox.url, "GET", path_of(session.url))
    status, _, body = answer
    words = text_of(assert_page_for_people(answer))
    assert status == 200 and "Ce lien a expiré : demandez un nouveau lien à votre praticien." in words
    assert "Rien n'a été réservé sur votre carte" in words and "<form" not in body
    status, headers, _ = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card(GOOD_CARD))
    assert (status, headers["location"]) == (303, f"/c/pay/{session.id}")  # nothing paid on a closed link


def test_the_sandboxs_own_landing_pages_follow_the_payment(sandbox, client):
    acct = connected(sandbox, client)
    session = session_for(client, acct, success_url=f"{sandbox.url}/c/done/{{CHECKOUT_SESSION_ID}}",
                          cancel_url=f"{sandbox.url}/c/cancel/{{CHECKOUT_SESSION_ID}}")
    page = fetch(sandbox.url, "GET", path_of(session.url))[2]
    assert f'href="{sandbox.url}/c/cancel/{session.id}"' in page  # the back link, its placeholder filled in
    words = text_of(assert_page_for_people(fetch(sandbox.url, "GET", f"/c/cancel/{session.id}")))
    assert "rien n'a été réservé sur votre carte" in words and "Revenir à la page de paiement" in words
    assert fetch(sandbox.url, "GET", f"/c/done/{session.id}")[:2][0] == 303  # nothing held yet: back to the form
    status, headers, _ = fetch(sandbox.url, "POST", f"/c/pay/{session.id}", card(GOOD_CARD))
    assert headers["location"] == f"{sandbox.url}/c/done/{session.id}"
    words = text_of(assert_page_for_people(fetch(sandbox.url, "GET", f"/c/done/{session.id}")))
    assert "Empreinte enregistrée" in words and "au plus tard le" in words and NAME in words
    pi = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).payment_intent
    client.v1.payment_intents.capture(pi, params={"amount_to_capture": 2000}, options={"stripe_account": acct})
    words = text_of(fetch(sandbox.url, "GET", f"/c/done/{session.id}")[2])
    assert "Paiement effectué" in words and "a encaissé 20,00 €" in words
    assert fetch(sandbox.url, "GET", "/c/pay/cs_test_unknown")[0] == 404


# --------------------------------------------------------------------------- OAuth consent


def consent_form(client, **extra: Any) -> dict[str, str]:
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-form",
                                             "stripe_user": {"email": "claire@example.fr"}, **extra})
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    return {k: v for k, v in query.items() if not k.startswith("stripe_user")}


def signup(**overrides: str) -> dict[str, str]:
    return {"decision": "approve", "email": "claire@example.fr", "business_name": NAME, "country": "FR",
            "business_type": "individual", "siren": "123 456 782", "mcc": "8011", "url": "cabinet-martin.example.fr",
            "iban": "FR14 2004 1010 0505 0001 3M02 606", "tos": "accepted", **overrides}


def test_the_consent_page_is_a_french_form_that_works_without_javascript(sandbox, client):
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-form",
                                             "stripe_user": {"email": "claire@example.fr"}})
    body = assert_page_for_people(fetch(sandbox.url, "GET", path_of(url)))
    words = text_of(body)
    for asked in ("Pays", "Type d'activité", "Entrepreneur individuel", "Numéro SIREN", "Site web professionnel",
                  "IBAN", "J'accepte", "Refuser", "J'ai déjà un compte Stripe"):
        assert asked in words
    assert body.count('method="post" action="/oauth/authorize"') == 2 and 'value="claire@example.fr"' in body
    assert 'name="state" value="csrf-form"' in body


def test_signing_up_on_the_consent_page_creates_a_ready_account_with_what_was_typed(sandbox, client):
    status, headers, _ = fetch(sandbox.url, "POST", "/oauth/authorize", {**consent_form(client), **signup()})
    assert status == 303
    back = urllib.parse.urlsplit(headers["location"])
    query = dict(urllib.parse.parse_qsl(back.query))
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{sandbox.url}/_sandbox/oauth/return"
    assert query["state"] == "csrf-form" and query["code"].startswith("ac_")
    acct_id = client.oauth.token(params={"grant_type": "authorization_code", "code": query["code"]}).stripe_user_id
    acct = client.v1.accounts.retrieve(acct_id)
    assert (acct.email, acct.country, acct.business_type) == ("claire@example.fr", "FR", "individual")
    assert (acct.business_profile.name, acct.business_profile.mcc) == (NAME, "8011")
    assert acct.business_profile.url == "https://cabinet-martin.example.fr"
    assert acct.charges_enabled and acct.payouts_enabled and acct.details_submitted
    assert acct.tos_acceptance.date and acct.tos_acceptance.ip == "127.0.0.1"
    assert acct.tos_acceptance.user_agent == "pytest-browserless"
    assert IBAN not in str(acct) and SIREN not in str(acct)  # kept to the sandbox, as Stripe keeps them


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"siren": "123456789"}, "siren", "Ce numéro SIREN n'existe pas (sa clé de contrôle est fausse)"),
        ({"siren": "12345678200012"}, "siren", "C'est un SIRET (14 chiffres)"),
        ({"siren": "1234"}, "siren", "Le SIREN compte 9 chiffres."),
        ({"iban": "FR1420041010050500013M02600"}, "iban", "Cet IBAN n'est pas valide (sa clé de contrôle est fausse)"),
        ({"iban": "DE89370400440532013000"}, "iban", "Indiquez un IBAN français"),
        ({"iban": "FR14 2004"}, "iban", "Un IBAN français compte 27 caractères"),
        ({"url": "pas un site"}, "url", "Cette adresse web n'est pas valide"),
        ({"email": "claire"}, "email", "Indiquez une adresse e-mail valide"),
        ({"business_name": ""}, "business_name", "Indiquez le nom que vos patients verront"),
        ({"tos": ""}, "tos", "Acceptez les conditions pour terminer l'inscription."),
    ],
)
def test_a_wrong_sign_up_is_sent_back_in_french_and_creates_nothing(sandbox, client, overrides, field, message):
    before = len(client.v1.accounts.list().data)
    status, _, body = fetch(sandbox.url, "POST", "/oauth/authorize", {**consent_form(client), **signup(**overrides)})
    assert status == 422 and message in text_of(body)
    assert f'id="{field}"' in body and (field == "tos" or re.search(rf'id="{field}"[^>]*aria-invalid="true"', body))
    assert 'value="Dre Claire Martin"' in body or field == "business_name"  # what was typed stays
    assert len(client.v1.accounts.list().data) == before


def test_la_postes_siren_is_the_one_exception_to_luhn(sandbox, client):
    status, _, _ = fetch(sandbox.url, "POST", "/oauth/authorize", {**consent_form(client), **signup(siren="356000000")})
    assert status == 303


def test_an_existing_account_or_a_refusal_from_the_consent_page(sandbox, client):
    other = connected(sandbox, client)  # an account of its own (as one signed up on Stripe directly)
    form = consent_form(client)
    status, _, body = fetch(sandbox.url, "POST", "/oauth/authorize", {**form, "decision": "approve",
                                                                      "account": "acct_1Unknown00000000"})
    assert status == 422 and "Aucun compte Stripe ne porte cet identifiant." in text_of(body)
    status, headers, _ = fetch(sandbox.url, "POST", "/oauth/authorize", {**form, "decision": "approve", "account": other})
    assert status == 303 and "code=ac_" in headers["location"]
    status, headers, _ = fetch(sandbox.url, "POST", "/oauth/authorize", {**form, "decision": "deny"})
    assert status == 303 and "error=access_denied" in headers["location"] and "state=csrf-form" in headers["location"]
    words = text_of(assert_page_for_people(fetch(sandbox.url, "GET", path_of(headers["location"]))))
    prose = words.split("sarapay link")[0]  # the command for support carries the address as it came back
    assert "Accès refusé" in prose and "rien n'a été créé" in prose and "denied" not in prose


def test_the_return_page_shows_the_command_to_paste(sandbox, client):
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-ret",
                                             "redirect_uri": f"{sandbox.url}/_sandbox/oauth/return?rpps={RPPS}"})
    answer = sandbox.oauth_authorize(url)
    body = assert_page_for_people(fetch(sandbox.url, "GET", path_of(answer["redirect_url"])))
    # One argument per line, continued with a backslash: pasted into a shell, it is one command.
    assert f"sarapay link {RPPS} \\\n  --code {answer['code']} \\\n  --state csrf-ret" in body
    words = text_of(body)
    assert "dans les 5 minutes" in words
    bare = sandbox.oauth_authorize(client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-bare"}))
    words = text_of(fetch(sandbox.url, "GET", path_of(bare["redirect_url"]))[2])
    assert f"sarapay link RPPS \\ --code {bare['code']} \\ --state csrf-bare" in words and "Remplacez RPPS" in words


def test_a_broken_authorize_address_is_explained_in_french(sandbox):
    status, _, body = fetch(sandbox.url, "GET", "/oauth/authorize?response_type=code&scope=read_write")
    assert status == 400 and "Demande d'autorisation invalide" in body and "demandez un nouveau lien" in body


# --------------------------------------------------------------------------- Account Link onboarding


def onboarding_link(sandbox, client) -> tuple[str, str]:
    acct = client.v1.accounts.create(params={"type": "express", "email": "paul@example.fr"}).id
    base = f"{sandbox.url}/_sandbox/onboarding/{acct}"
    link = client.v1.account_links.create(params={
        "account": acct, "type": "account_onboarding",
        "refresh_url": f"{base}/refresh?rpps={RPPS}", "return_url": f"{base}/return?rpps={RPPS}"})
    return acct, link.url


def test_onboarding_asks_in_french_and_a_later_leaves_everything_due(sandbox, client):
    acct, url = onboarding_link(sandbox, client)
    body = assert_page_for_people(fetch(sandbox.url, "GET", path_of(url)))
    words = text_of(body)
    assert "le compte bancaire (IBAN) qui reçoit les versements" in words and "une pièce d'identité" in words
    for raw in ("business_profile", "tos_acceptance", "external_account", "individual.verification"):
        assert raw not in words
    assert "dashboard.stripe.com" not in body and "paul@example.fr" in words
    form = re.search(r'name="form" value="([^"]+)"', body).group(1)
    status, headers, _ = fetch(sandbox.url, "POST", path_of(url), {"form": form, "action": "later"})
    assert (status, headers["location"]) == (303, f"{sandbox.url}/_sandbox/onboarding/{acct}/return?rpps={RPPS}")
    assert not client.v1.accounts.retrieve(acct).charges_enabled
    words = text_of(assert_page_for_people(fetch(sandbox.url, "GET", path_of(headers["location"]))))
    assert "Inscription à terminer" in words and "le type d'activité" in words
    assert f"sarapay link {RPPS} --check" in words


def test_onboarding_completed_from_the_form_enables_the_account(sandbox, client):
    acct, url = onboarding_link(sandbox, client)
    body = fetch(sandbox.url, "GET", path_of(url))[2]
    form = re.search(r'name="form" value="([^"]+)"', body).group(1)
    fields = {k: v for k, v in signup(business_name="Dr Paul Durand").items() if k not in ("decision", "email")}
    status, _, body = fetch(sandbox.url, "POST", path_of(url), {**fields, "form": form, "action": "submit",
                                                              "siren": "123456789"})
    assert status == 422 and "Ce numéro SIREN n'existe pas" in text_of(body)
    status, headers, _ = fetch(sandbox.url, "POST", path_of(url), {**fields, "form": form, "action": "submit"})
    assert status == 303 and headers["location"].endswith(f"/_sandbox/onboarding/{acct}/return?rpps={RPPS}")
    account = client.v1.accounts.retrieve(acct)
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert account.requirements.currently_due == [] and account.business_profile.name == "Dr Paul Durand"
    assert "account.updated" in [e.type for e in client.v1.events.list(options={"stripe_account": acct}).data]
    words = text_of(fetch(sandbox.url, "GET", path_of(headers["location"]))[2])
    assert "Inscription terminée" in words and "FR14 •••• 2606" in words and IBAN not in words
    # The link served once: opened again, it goes to the platform's refresh page, in the sandbox.
    status, headers, _ = fetch(sandbox.url, "GET", path_of(url))
    assert (status, headers["location"]) == (302, f"{sandbox.url}/_sandbox/onboarding/{acct}/refresh?rpps={RPPS}")
    words = text_of(assert_page_for_people(fetch(sandbox.url, "GET", path_of(headers["location"]))))
    assert "Ce lien d'inscription a déjà servi ou a expiré" in words and "déjà terminée" in words
    # The form itself is spent too: posting it again changes nothing and leads to the refresh page.
    status, headers, _ = fetch(sandbox.url, "POST", path_of(url), {**fields, "form": form, "action": "submit"})
    assert status == 303 and headers["location"].endswith(f"/refresh?rpps={RPPS}")


def test_an_unknown_onboarding_link_is_a_french_404(sandbox):
    status, _, body = fetch(sandbox.url, "GET", "/setup/acct_1Unknown00000000/nope")
    assert status == 404 and "Ce lien d'inscription n'existe pas" in body
