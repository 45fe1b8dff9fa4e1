"""Connect OAuth for Standard accounts on the connect base (docs/stripe-behaviour.md).

Flow: the platform sends the practitioner to GET /oauth/authorize (consent page); approving posts to
the control endpoint POST /_sandbox/oauth/authorize, which creates or picks the account and issues a
single-use code bound to the client id; the platform exchanges it at POST /oauth/token with its secret
key. OAuth errors use their own shape (framework.OAuthError) with the strings Stripe's SDK tests quote.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlencode

from . import connect, onboarding, pages
from .framework import ROUTER, OAuthError, Request, Store, StripeError, missing, param_invalid, param_missing

CODE_TTL = 300  # authorization codes are good for 5 minutes
CLIENT_ID = re.compile(r"ca_[A-Za-z0-9]{8,}")

NO_APPLICATION = "No application matches the supplied client identifier"


def derive(*parts: str, length: int = 24) -> str:
    """A stable fake secret (a token, a publishable key) derived from its parts, never revealing them."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]


def _client_owner(store: Store, client_id: str) -> str | None:
    """The secret key of the platform owning `client_id` (the first one that exchanged a code for it)."""
    for key, platform in store.platforms.items():
        if platform.get("client_id") == client_id:
            return key
    return None


def _check_client(req: Request, client_id: str) -> None:
    """A platform has one client id, and a client id one platform: anything else is invalid_client."""
    assert req.platform is not None
    owner = _client_owner(req.store, client_id)
    mine = req.platform.client_id or req.store.platforms.get(req.platform.key, {}).get("client_id")
    if (owner is not None and owner != req.platform.key) or (mine and mine != client_id):
        raise OAuthError(401, "invalid_client", NO_APPLICATION)


def _claim_client(req: Request, client_id: str) -> None:
    assert req.platform is not None
    req.platform.client_id = client_id
    req.store.platforms.setdefault(req.platform.key, {})["client_id"] = client_id


def _with_query(url: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return url + ("&" if "?" in url else "?") + query


def _application(client_id: str) -> dict[str, Any]:
    return {"id": client_id, "object": "application", "name": None}


def _revoke(store: Store, platform_account_id: str, account_id: str) -> None:
    """Cut the platform's access; the account itself lives on (Stripe never deletes it)."""
    store.connections.get(platform_account_id, {}).pop(account_id, None)
    grant = store.table("oauth_grants").pop(connect.grant_key(platform_account_id, account_id), None)
    if grant:
        store.table("oauth_refresh_tokens").pop(grant["refresh_token"], None)


# --------------------------------------------------------------------------- authorize (people)


def _authorize_params(p: dict[str, Any]) -> tuple[str, str]:
    """(client_id, scope) of an authorize request, or a StripeError saying what is wrong."""
    client_id = p.get("client_id")
    if not client_id:
        raise param_missing("client_id")
    if not CLIENT_ID.fullmatch(client_id):
        raise param_invalid("client_id", f"Invalid client_id: {client_id}")
    if p.get("response_type") != "code":
        raise param_invalid("response_type", "Invalid response_type: must be code")
    scope = p.get("scope") or "read_only"
    if scope not in ("read_only", "read_write"):
        raise param_invalid("scope", "Invalid scope: must be one of read_only or read_write")
    redirect_uri = p.get("redirect_uri")
    if redirect_uri and not re.match(r"^https?://[^\s/]+", redirect_uri):
        raise param_invalid("redirect_uri", "Invalid redirect_uri: must be an http or https URL")
    return client_id, scope


def _stripe_user(p: dict[str, Any]) -> dict[str, Any]:
    user = p.get("stripe_user")
    if isinstance(user, dict):
        return user
    # A client that did not decode brackets sends "stripe_user[email]" as a flat name.
    return {k[len("stripe_user[") : -1]: v for k, v in p.items() if k.startswith("stripe_user[") and k.endswith("]")}


OAUTH_PARAMS = ("client_id", "response_type", "scope", "state", "redirect_uri")
SCOPE_FR = {
    "read_write": "créer des paiements sur votre compte (les empreintes bancaires de vos téléconsultations), les "
    "encaisser, les rembourser, et consulter vos paiements et vos versements",
    "read_only": "consulter vos paiements et vos versements",
}


def _consent_body(p: dict[str, Any], client_id: str, scope: str, values: dict[str, Any], errors: dict[str, str],
                  account_error: str | None = None) -> str:
    """The consent page: what the platform asks for, the sign-up form of a new account, another way in with an
    existing account, and a way to say no. Plain forms: no JavaScript needed."""
    oauth = {k: p.get(k) for k in OAUTH_PARAMS}
    oauth["response_type"] = "code"
    existing = (p.get("account") or "") if account_error else ""
    account_field = pages.field(
        "account", "Identifiant de votre compte Stripe", value=existing, error=account_error,
        attrs='autocomplete="off" spellcheck="false" placeholder="acct_…"', focus=bool(account_error),
        hint="En mode test, il remplace la connexion à votre compte : il commence par acct_.")
    return f"""
<p class="label">Connexion à Stripe</p>
<h1>Reliez votre compte Stripe à votre plateforme de téléconsultation</h1>
<div class="note"><p>La plateforme <span class="mono">{pages.esc(client_id)}</span> demande à pouvoir
{pages.esc(SCOPE_FR[scope])}.</p><p>L'argent de vos patients arrive sur votre compte Stripe, puis sur votre compte
bancaire. Vous pourrez retirer cet accès à tout moment.</p></div>
<details{" open" if account_error else ""}><summary>J'ai déjà un compte Stripe</summary>
<form method="post" action="/oauth/authorize" novalidate>
{pages.hidden({**oauth, "decision": "approve"})}
{account_field}
<button class="btn" type="submit">Autoriser l'accès à ce compte</button>
</form></details>
{pages.error_summary(errors)}
<form class="card" method="post" action="/oauth/authorize" novalidate>
{pages.hidden(oauth)}
<p class="small muted">Pas encore de compte Stripe ? Créez-le ici, en quelques minutes.</p>
{onboarding.form_fields(values, errors, ask_email=True)}
<button class="btn" type="submit" name="decision" value="approve">Créer mon compte et autoriser l'accès</button>
<button class="btn secondary" type="submit" name="decision" value="deny" formnovalidate>Refuser</button>
</form>"""


def _prefill(p: dict[str, Any]) -> dict[str, Any]:
    """The consent form's first values: what the platform prefilled through stripe_user[...]."""
    user = _stripe_user(p)
    kind = user.get("business_type") if user.get("business_type") in ("individual", "company") else "individual"
    return {"email": user.get("email") or "", "business_name": user.get("business_name") or "",
            "url": user.get("url") or "", "business_type": kind, "mcc": "8011"}


def _bad_request(exc: Exception) -> tuple[int, str, dict[str, str]]:
    message = getattr(exc, "message", str(exc))
    return pages.page(400, "Demande d'autorisation invalide",
                      "<h1>Demande d'autorisation invalide</h1><p>L'adresse qui vous a amené ici est incomplète ou "
                      "abîmée : demandez un nouveau lien à votre plateforme.</p>"
                      f'<p class="small muted">Détail technique : <span class="mono">{pages.esc(message)}</span></p>')


@ROUTER.route("GET", "/oauth/authorize", auth="none")
def consent_page(req: Request) -> Any:
    try:
        client_id, scope = _authorize_params(req.params)
    except StripeError as exc:  # a person is reading: explain on the page
        return _bad_request(exc)
    body = _consent_body(req.params, client_id, scope, _prefill(req.params), {})
    return pages.page(200, "Connexion à Stripe", body)


@ROUTER.route("POST", "/oauth/authorize", auth="none")
def consent_submit(req: Request) -> Any:
    """The consent page's forms: approve with a new account (the sign-up form), with an existing one, or deny."""
    p = req.params
    try:
        client_id, scope = _authorize_params(p)
    except StripeError as exc:
        return _bad_request(exc)
    if p.get("decision") == "deny":
        return pages.see_other(authorize(req, {**p, "decision": "deny"})["redirect_url"])
    if p.get("account"):
        try:
            return pages.see_other(authorize(req, {**p, "decision": "approve"})["redirect_url"])
        except StripeError as exc:
            problem = ("Aucun compte Stripe ne porte cet identifiant." if exc.code == "resource_missing" else
                       "Ce compte est géré par une autre plateforme : il ne peut pas être relié ici."
                       if "controlled by another platform" in exc.message else exc.message)
            return pages.page(422, "Connexion à Stripe",
                              _consent_body(p, client_id, scope, _prefill(p), {}, account_error=problem))
    values, errors = onboarding.check_form(p, ask_email=True)
    values["tos"] = p.get("tos")
    if errors:
        return pages.page(422, "Connexion à Stripe", _consent_body(p, client_id, scope, values, errors))
    answer = authorize(req, {k: p.get(k) for k in OAUTH_PARAMS} | {"decision": "approve", "email": values["email"]},
                       details=values)
    return pages.see_other(answer["redirect_url"])


@ROUTER.route("POST", "/_sandbox/oauth/authorize", auth="none")
def control_authorize(req: Request) -> tuple[int, Any]:
    """Plays the practitioner on the consent page (docs/sandbox.md)."""
    return 200, authorize(req, req.params)


def authorize(req: Request, p: dict[str, Any], details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The practitioner's decision on the consent page: the redirect (with a code, or the refusal) and what
    it carries. `details`: what the sign-up form collected for a new account (onboarding.check_form)."""
    client_id, scope = _authorize_params(p)
    decision = p.get("decision")
    if not decision:
        raise param_missing("decision")
    if decision not in ("approve", "deny"):
        raise param_invalid("decision", "Invalid decision: must be one of approve or deny")
    state = p.get("state")
    redirect_uri = p.get("redirect_uri") or f"{req.base_url}/_sandbox/oauth/return"
    if decision == "deny":
        url = _with_query(
            redirect_uri, error="access_denied", error_description="The user denied your request", state=state
        )
        return {"redirect_url": url, "error": "access_denied", "state": state}

    store = req.store
    user = _stripe_user(p)
    account_id = p.get("account")
    if account_id:
        acct = store.accounts.get(account_id)
        if acct is None:
            raise missing("account", account_id, "account")
        owner = _client_owner(store, client_id)
        owner_acct = store.platforms[owner]["account_id"] if owner else None
        if scope == "read_write" and acct.get("_controller") not in (None, owner_acct):
            # Since 2021 read_write OAuth cannot connect an account another platform controls.
            raise param_invalid(
                "account", f"The account {account_id} is controlled by another platform and cannot be connected with read_write scope."
            )
    else:
        email = p.get("email") or user.get("email")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            email = None  # Stripe ignores invalid prefill values silently
        country = str(user["country"]) if re.fullmatch(r"[A-Z]{2}", user.get("country") or "") else "FR"
        business_type = user.get("business_type") if user.get("business_type") in connect.BUSINESS_TYPES else None
        # The person signs up on Stripe's side: a Standard account that controls itself, ready to charge.
        acct = connect.new_account(
            store, kind="standard", controller={"type": "account"}, email=email, country=country,
            business_type=business_type,
        )
        acct["business_profile"]["url"] = user.get("url") or None
        acct["business_profile"]["name"] = user.get("business_name") or None
        acct["settings"]["dashboard"]["display_name"] = user.get("business_name") or None
        if details:
            onboarding.apply(acct, details, req.now, req.client_ip, req.headers.get("user-agent"))
        else:
            connect.complete_onboarding(acct, req.now)
        store.accounts[acct["id"]] = acct

    code = store.new_id("ac_", 32)
    store.table("oauth_codes")[code] = {
        "client_id": client_id,
        "scope": scope,
        "account": acct["id"],
        "expires_at": req.now + CODE_TTL,
        "used": False,
        "platform": None,
    }
    url = _with_query(redirect_uri, code=code, scope=scope, state=state)
    return {"redirect_url": url, "code": code, "state": state, "stripe_user_id": acct["id"]}


@ROUTER.route("GET", "/_sandbox/oauth/return", auth="none")
def return_page(req: Request) -> Any:
    """Where the consent page lands without a redirect_uri (the platform's page; sarapay has none): the
    command that finishes the link, ready to paste. sarapay adds `rpps=` to its sandbox redirect_uri."""
    p = req.params
    rpps = p.get("rpps") if re.fullmatch(r"\d{11}", str(p.get("rpps") or "")) else "RPPS"
    placeholder = ('<p class="small muted">Remplacez RPPS par le numéro RPPS du praticien.</p>'
                   if rpps == "RPPS" else "")
    if p.get("error"):
        back = f"{req.base_url}{req.path}?{urlencode({k: v for k, v in p.items() if isinstance(v, str)})}"
        command = f"sarapay link {rpps} \\\n  --return-url '{back}'"
        body = f"""<div class="card"><h1>Accès refusé</h1>
<p>Vous avez refusé l'accès : votre compte Stripe n'est pas relié à la plateforme, et rien n'a été créé.</p>
<p>Si vous changez d'avis, demandez un nouveau lien à votre plateforme.</p></div>
<details><summary>Pour le support de la plateforme</summary>
<p class="small">Pour enregistrer ce refus :</p><pre class="cmd">{pages.esc(command)}</pre>{placeholder}</details>"""
        return pages.page(200, "Accès refusé", body)
    code, state = str(p.get("code") or ""), str(p.get("state") or "")
    # One argument per line, joined by the shell's backslash-newline: a phone wraps nothing inside "--state",
    # and the text pastes into a terminal as it is.
    command = f"sarapay link {rpps} \\\n  --code {code} \\\n  --state {state}"
    minutes = CODE_TTL // 60
    body = f"""<div class="card"><div class="check" aria-hidden="true">✓</div>
<h1>Accès autorisé</h1>
<p>Votre compte Stripe est prêt. Il reste une étape à la plateforme : relier ce compte à votre numéro RPPS.</p>
<h2>Pour le support de la plateforme</h2>
<p class="small">Collez cette commande dans les {minutes} minutes (le code expire ensuite) :</p>
<pre class="cmd" id="command">{pages.esc(command)}</pre>{placeholder}
<p class="small muted">Vous pouvez aussi transmettre au support l'adresse de cette page.</p></div>"""
    return pages.page(200, "Accès autorisé", body)


# --------------------------------------------------------------------------- token and deauthorize (platform)


@ROUTER.route("POST", "/oauth/token", account_scoped=False)
def token(req: Request) -> tuple[int, Any]:
    grant_type = req.params.get("grant_type")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "No grant type specified")
    if grant_type == "authorization_code":
        return 200, _exchange_code(req)
    if grant_type == "refresh_token":
        return 200, _refresh(req)
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")


def _exchange_code(req: Request) -> dict[str, Any]:
    assert req.platform is not None
    store, code = req.store, req.params.get("code")
    if not code:
        raise OAuthError(400, "invalid_request", "No authorization code provided")
    rec = store.table("oauth_codes").get(code)
    if rec is None:
        raise OAuthError(400, "invalid_grant", f"Authorization code does not exist: {code}")
    _check_client(req, rec["client_id"])
    platform_id = req.platform.account_id
    if rec["used"]:
        # Stripe treats a replayed code as a leak: whatever it granted is revoked.
        grant = store.table("oauth_grants").get(connect.grant_key(rec["platform"], rec["account"]))
        if grant and grant["code"] == code:
            _revoke(store, rec["platform"], rec["account"])
            connect.emit(store, rec["account"], "account.application.deauthorized", _application(rec["client_id"]),
                         request=req)
        raise OAuthError(
            400,
            "invalid_grant",
            "This authorization code has already been used. All tokens issued with this code have been revoked.",
        )
    if req.now >= rec["expires_at"]:
        raise OAuthError(400, "invalid_grant", "Authorization code expired")
    rec["used"] = True
    rec["platform"] = platform_id
    _claim_client(req, rec["client_id"])
    account_id = rec["account"]
    links = store.connections.setdefault(platform_id, {})
    links.setdefault(account_id, "oauth")  # an account the platform created stays "created"
    grant = {
        "scope": rec["scope"],
        "client_id": rec["client_id"],
        "code": code,
        "access_token": "sk_test_" + derive(req.platform.key, account_id, code, "access"),
        "refresh_token": "rt_" + derive(req.platform.key, account_id, code, "refresh"),
    }
    store.table("oauth_grants")[connect.grant_key(platform_id, account_id)] = grant
    store.table("oauth_refresh_tokens")[grant["refresh_token"]] = {"platform": platform_id, "account": account_id}
    connect.emit(store, account_id, "account.application.authorized", _application(rec["client_id"]), request=req)
    return _token_body(grant, account_id)


def _token_body(grant: dict[str, Any], account_id: str) -> dict[str, Any]:
    return {
        "access_token": grant["access_token"],
        "livemode": False,
        "refresh_token": grant["refresh_token"],
        "scope": grant["scope"],
        "stripe_publishable_key": "pk_test_" + derive(account_id, "publishable"),
        "stripe_user_id": account_id,
        "token_type": "bearer",
    }


def _refresh(req: Request) -> dict[str, Any]:
    """grant_type=refresh_token: a new access token for a live connection, optionally narrowed to read_only."""
    assert req.platform is not None
    rt = req.params.get("refresh_token")
    if not rt:
        raise OAuthError(400, "invalid_request", "No refresh token provided")
    ref = req.store.table("oauth_refresh_tokens").get(rt)
    if ref is None or ref["platform"] != req.platform.account_id:
        raise OAuthError(400, "invalid_grant", f"Refresh token does not exist: {rt}")
    grant = req.store.table("oauth_grants")[connect.grant_key(ref["platform"], ref["account"])]
    scope = req.params.get("scope") or grant["scope"]
    if scope not in ("read_only", "read_write") or (scope == "read_write" and grant["scope"] == "read_only"):
        raise OAuthError(400, "invalid_scope", f"Invalid scope: {scope}")
    grant["scope"] = scope
    grant["access_token"] = "sk_test_" + derive(grant["access_token"], "refreshed")
    return _token_body(grant, ref["account"])


@ROUTER.route("POST", "/oauth/deauthorize", account_scoped=False)
def deauthorize(req: Request) -> tuple[int, Any]:
    assert req.platform is not None
    p = req.params
    client_id, account_id = p.get("client_id"), p.get("stripe_user_id")
    if not client_id:
        raise OAuthError(400, "invalid_request", "No client_id provided")
    if not account_id:
        raise OAuthError(400, "invalid_request", "No stripe_user_id provided")
    _check_client(req, client_id)
    platform_id = req.platform.account_id
    if account_id not in req.store.connections.get(platform_id, {}):
        raise OAuthError(
            401,
            "invalid_client",
            f"This application is not connected to stripe account {account_id}, or that account does not exist.",
        )
    _claim_client(req, client_id)
    _revoke(req.store, platform_id, account_id)
    connect.emit(req.store, account_id, "account.application.deauthorized", _application(client_id), request=req)
    return 200, {"stripe_user_id": account_id}
