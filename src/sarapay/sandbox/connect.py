"""Connect in the sandbox: connected accounts, Account Links, hosted onboarding (docs/stripe-behaviour.md).

Accounts live in `store.accounts` (any platform may be connected to one); which platform may act on
which account is `store.connections[platform_account_id][acct] = "created" | "oauth"`.
OAuth (authorize, token, deauthorize) is in oauth.py and the hosted onboarding form in onboarding.py;
both build on this module (never the other way round), and the server imports all three to register
their routes. The pages' HTML helpers are in pages.py.

Helpers the server may use: `connected_accounts`, `has_access`, `account_invalid`,
`ensure_platform_account`, `connection_scope`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import events
from .framework import (
    ROUTER,
    Platform,
    Request,
    Store,
    StripeError,
    bool_param,
    int_param,
    missing,
    param_invalid,
    param_missing,
    public,
    unknown_params,
)
from .listing import paginate

LINK_TTL = 300  # Account Links expire 300 s after creation (API reference example)

# What a freshly created account still owes Stripe before it can take payments.
INITIAL_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.verification.document",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]

# What an onboarded account owes again when Stripe restricts it (the control outcome "restricted").
RESTRICTED_DUE = ["individual.verification.document"]

# controller[...] of the deprecated `type` values (docs/stripe-behaviour.md).
TYPE_CONTROLLERS: dict[str, dict[str, Any]] = {
    "standard": {"fees": "account", "losses": "stripe", "requirement_collection": "stripe", "dashboard": "full"},
    "express": {"fees": "application", "losses": "application", "requirement_collection": "stripe", "dashboard": "express"},
    "custom": {"fees": "application", "losses": "application", "requirement_collection": "application", "dashboard": "none"},
}

INTERVALS = ("daily", "manual", "monthly", "weekly")
WEEKDAYS = ("friday", "monday", "saturday", "sunday", "thursday", "tuesday", "wednesday")
BUSINESS_TYPES = ("company", "government_entity", "individual", "non_profit")


# --------------------------------------------------------------------------- helpers for the server


def connected_accounts(store: Store, platform_account_id: str) -> dict[str, str]:
    """{acct: "created" | "oauth"} for the accounts this platform may act on with Stripe-Account."""
    return dict(store.connections.get(platform_account_id, {}))


def has_access(store: Store, platform_account_id: str, account_id: str) -> bool:
    return account_id == platform_account_id or account_id in store.connections.get(platform_account_id, {})


def connection_scope(store: Store, platform_account_id: str, account_id: str) -> str | None:
    """OAuth scope of a connection ("read_only" | "read_write"); created accounts are read_write."""
    how = store.connections.get(platform_account_id, {}).get(account_id)
    if how is None:
        return None
    if how == "oauth":
        grant = store.table("oauth_grants").get(grant_key(platform_account_id, account_id))
        if grant:
            return str(grant["scope"])
    return "read_write"


def grant_key(platform_account_id: str, account_id: str) -> str:
    return f"{platform_account_id}:{account_id}"


def mask_key(key: str) -> str:
    """sk_test_****abcd: the way docs/sandbox.md (and the server's 401) quote a key back."""
    m = re.match(r"^((?:sk|pk|rk)_(?:test|live)_)", key)
    return (m.group(1) if m else "") + "****" + key[-4:]


def account_invalid(key: str, account_id: str) -> StripeError:
    """403 for an account the key cannot reach; Stripe does not tell "absent" from "not yours"."""
    return StripeError(
        403,
        f"The provided key '{mask_key(key)}' does not have access to account '{account_id}' "
        "(or that account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def ensure_platform_account(store: Store, account_id: str) -> dict[str, Any]:
    """The platform's own account: complete (it is a live business), with every field Connect shows.

    The server may already have stored a shorter version on first use of the key: fill in the rest.
    """
    full = new_account(store, account_id=account_id, kind="standard", controller={"type": "account"})
    complete_onboarding(full, store.now())
    acct = store.accounts.setdefault(account_id, full)
    for k, v in full.items():
        acct.setdefault(k, v)
    for k, v in full["settings"].items():
        acct["settings"].setdefault(k, v)
    return acct


def emit(store: Store, account_id: str, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None,
         request: Request | None = None) -> None:
    events.emit(store, account_id, type_, obj, previous_attributes=previous, request=request)


# What Stripe answers when a payment is created on a connected account that cannot take cards yet
# (onboarding unfinished: `card_payments` not active, `charges_enabled` false). Quoted from Stripe's own
# test suite run in test mode (stripe-node PR #737: the request came back 400, not the expected 402) and
# from integrators hitting it on Checkout / PaymentIntents (Subscribie#408): 400 invalid_request_error,
# no code. Stripe's doc (connect/account-capabilities) says "A capability must be active for a connected
# account to perform actions associated with that capability"; it also warns that test mode "might not
# enforce some capabilities": the sandbox enforces it, so a client cannot come to rely on the leniency.
CARD_PAYMENTS_INACTIVE = (
    "You cannot create a charge on a connected account without the `card_payments` capability enabled."
)


def can_take_cards(acct: dict[str, Any]) -> bool:
    return bool(acct.get("charges_enabled")) and (acct.get("capabilities") or {}).get("card_payments") == "active"


def require_card_payments(req: Request) -> None:
    """Refuse, as Stripe does, to create a Checkout Session or a PaymentIntent on a connected account
    (Stripe-Account) that cannot take card payments. Called after the parameters are validated."""
    if not req.stripe_account:
        return  # the platform's own account: a live, onboarded business
    acct = req.store.accounts.get(req.stripe_account)
    if acct is not None and not can_take_cards(acct):
        raise StripeError(400, CARD_PAYMENTS_INACTIVE)


# --------------------------------------------------------------------------- the account object


def new_account(
    store: Store,
    *,
    kind: str,
    controller: dict[str, Any],
    account_id: str | None = None,
    email: str | None = None,
    country: str = "FR",
    business_type: str | None = None,
    metadata: dict[str, str] | None = None,
    controller_platform: str | None = None,
) -> dict[str, Any]:
    """An account as the Accounts API shows it, not yet onboarded."""
    acct_id = account_id or store.new_id("acct_", 16)
    due = [f for f in INITIAL_DUE if not (f == "business_type" and business_type)]
    return {
        "id": acct_id,
        "object": "account",
        "business_profile": {
            "mcc": None,
            "name": None,
            "product_description": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": business_type,
        "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
        "charges_enabled": False,
        "controller": controller,
        "country": country,
        "created": store.now(),
        "default_currency": "eur",
        "details_submitted": False,
        "email": email,
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{acct_id}/external_accounts",
        },
        "future_requirements": _requirements([]),
        "metadata": metadata or {},
        "payouts_enabled": False,
        "requirements": _requirements(due, disabled_reason="requirements.past_due"),
        "settings": {
            # branding and card_payments are required by the spec: nothing set, Stripe's defaults.
            "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": None, "timezone": "Europe/Paris"},
            "payments": {"statement_descriptor": None},
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 7, "interval": "daily"},
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": kind,
        "_controller": controller_platform,  # platform account id that controls it (platform controls)
        "_seq": store.next_seq(),  # orders accounts created in the same second (GET /v1/accounts)
    }


def _requirements(due: list[str], disabled_reason: str | None = None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def complete_onboarding(acct: dict[str, Any], now: int) -> None:
    acct["charges_enabled"] = True
    acct["payouts_enabled"] = True
    acct["details_submitted"] = True
    acct["requirements"] = _requirements([])
    acct["capabilities"] = {"card_payments": "active", "transfers": "active"}
    acct["tos_acceptance"]["date"] = acct["tos_acceptance"]["date"] or now
    acct["business_type"] = acct["business_type"] or "individual"


def restrict(acct: dict[str, Any]) -> None:
    """What Stripe does when information it asked for later falls past due: charges and payouts stop,
    card_payments goes inactive, `disabled_reason` says why."""
    acct["charges_enabled"] = False
    acct["payouts_enabled"] = False
    acct["capabilities"] = {"card_payments": "inactive", "transfers": "inactive"}
    acct["requirements"] = _requirements(RESTRICTED_DUE, disabled_reason="requirements.past_due")


def account_view(acct: dict[str, Any], viewer: str | None) -> dict[str, Any]:
    """The account as `viewer` (a platform account id) sees it: controller details depend on who asks."""
    view: dict[str, Any] = public(acct)
    ctrl = view.get("controller") or {}
    # is_controller is `true` for the controlling application, otherwise absent: the spec types it as a
    # boolean that is never null (the API reference's "otherwise null" reads as "left out").
    if ctrl.get("type") == "application":
        if acct.get("_controller") == viewer:
            ctrl["is_controller"] = True
        else:  # another platform's account: Stripe hides how it is controlled
            ctrl = {"type": "application"}
    else:
        ctrl = {"type": "account"}
    view["controller"] = ctrl
    return view


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """previous_attributes of an account.updated event: the old values of what changed."""
    prev: dict[str, Any] = {}
    for k, old in before.items():
        new = after.get(k)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            prev[k] = diff(old, new)
        else:
            prev[k] = old
    return prev


def _controlled_by(acct: dict[str, Any], platform_account_id: str) -> bool:
    return acct.get("_controller") == platform_account_id


# --------------------------------------------------------------------------- parameter checks

STANDARD_DENIED = "The required permissions are not available for use by Standard Connect applications."


def known(params: dict[str, Any], allowed: set[str], prefix: str) -> None:
    """unknown_params for a nested hash: Stripe names the full path, e.g. settings[payouts][foo]."""
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]"
            raise StripeError(400, f"Received unknown parameter: {full}", code="parameter_unknown", param=full)



def _enum(value: Any, allowed: tuple[str, ...], param: str, name: str | None = None) -> str:
    if value not in allowed:
        choices = ", ".join(allowed[:-1]) + f", or {allowed[-1]}" if len(allowed) > 2 else " or ".join(allowed)
        raise param_invalid(param, f"Invalid {name or param.rsplit('[', 1)[-1].rstrip(']')}: must be one of {choices}")
    return str(value)


def _email(params: dict[str, Any]) -> str | None:
    email = params.get("email")
    if email is None:
        return None
    if email == "":
        return None
    if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise param_invalid("email", f"Invalid email address: {email}", code="email_invalid")
    return email


def apply_metadata(current: dict[str, str], raw: Any) -> dict[str, str]:
    """Stripe's metadata rules: "" unsets a key (or all of them), ≤50 keys, keys ≤40, values ≤500 chars."""
    if raw is None:
        return current
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise param_invalid("metadata", "Invalid object")
    merged = dict(current)
    for k, v in raw.items():
        if not isinstance(v, str):
            raise param_invalid(f"metadata[{k}]", "Invalid string: metadata values must be strings")
        if len(k) > 40:
            raise param_invalid(f"metadata[{k}]", "Metadata keys can have up to 40 characters, "
                                f"but you passed in a key with {len(k)} characters.")
        if len(v) > 500:
            raise param_invalid(f"metadata[{k}]", "Metadata values can have up to 500 characters, "
                                f"but you passed in a value that is {len(v)} characters.")
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    if len(merged) > 50:
        raise param_invalid("metadata", "You can specify up to 50 keys in metadata.")
    return merged


def _controller_from_params(params: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(account type, controller properties) from either `type` or `controller[...]`."""
    kind = params.get("type")
    raw = params.get("controller")
    if kind is not None and raw is not None:
        raise param_invalid("controller", "You cannot specify `controller` when `type` is also specified.")
    if raw is None:
        kind = _enum(kind or "standard", ("custom", "express", "standard"), "type")
        return kind, dict(TYPE_CONTROLLERS[kind])
    if not isinstance(raw, dict):
        raise param_invalid("controller", "Invalid object")
    known(raw, {"fees", "losses", "requirement_collection", "stripe_dashboard", "application"}, "controller")
    props = dict(TYPE_CONTROLLERS["standard"])
    fees = raw.get("fees") or {}
    if "payer" in fees:
        props["fees"] = _enum(fees["payer"], ("account", "application"), "controller[fees][payer]", "payer")
    losses = raw.get("losses") or {}
    if "payments" in losses:
        props["losses"] = _enum(losses["payments"], ("application", "stripe"), "controller[losses][payments]", "payments")
    if "requirement_collection" in raw:
        props["requirement_collection"] = _enum(
            raw["requirement_collection"], ("application", "stripe"), "controller[requirement_collection]"
        )
    dash = raw.get("stripe_dashboard") or {}
    if "type" in dash:
        props["dashboard"] = _enum(dash["type"], ("express", "full", "none"), "controller[stripe_dashboard][type]", "type")
    if props["requirement_collection"] == "application" and props["dashboard"] != "none":
        # Stripe only lets a platform collect requirements for accounts without a Stripe dashboard.
        raise param_invalid(
            "controller[requirement_collection]",
            "`controller[requirement_collection]=application` requires `controller[stripe_dashboard][type]=none`.",
        )
    # The legacy type is reported when the properties match one exactly, `none` otherwise.
    kind = next((t for t, p in TYPE_CONTROLLERS.items() if p == props), "none")
    return kind, props


def _controller_object(props: dict[str, str]) -> dict[str, Any]:
    return {
        "fees": {"payer": props["fees"]},
        "is_controller": True,
        "losses": {"payments": props["losses"]},
        "requirement_collection": props["requirement_collection"],
        "stripe_dashboard": {"type": props["dashboard"]},
        "type": "application",
    }


# --------------------------------------------------------------------------- /v1/accounts


def _platform(req: Request) -> Platform:
    assert req.platform is not None  # every /v1/accounts route authenticates the key
    return req.platform


def _platform_id(req: Request) -> str:
    return _platform(req).account_id


def _reachable(req: Request, account_id: str) -> dict[str, Any]:
    """The account if this platform may see it, else Stripe's 403 account_invalid."""
    platform = _platform(req)
    if account_id == platform.account_id:
        return ensure_platform_account(req.store, platform.account_id)
    acct = req.store.accounts.get(account_id)
    if acct is None or not has_access(req.store, platform.account_id, account_id):
        raise account_invalid(platform.key, account_id)
    return acct


@ROUTER.route("POST", "/v1/accounts", account_scoped=False)
def create_account(req: Request) -> tuple[int, Any]:
    p = req.params
    unknown_params(
        p, {"type", "controller", "email", "country", "default_currency", "business_type", "metadata", "business_profile"}
    )
    kind, props = _controller_from_params(p)
    country = p.get("country") or "FR"
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise param_invalid("country", f"Country '{country}' is unknown. Try using a 2-character alphanumeric "
                            "country code instead, such as 'US', 'EG', or 'GB'.")
    currency = p.get("default_currency") or "eur"
    if currency != "eur":  # the sandbox models French accounts only
        raise param_invalid("default_currency", f"Invalid currency: {currency}. The sandbox supports eur only.")
    business_type = p.get("business_type") or None
    if business_type is not None:
        _enum(business_type, BUSINESS_TYPES, "business_type")
    platform_id = _platform_id(req)
    acct = new_account(
        req.store,
        kind=kind,
        controller=_controller_object(props),
        email=_email(p),
        country=country,
        business_type=business_type,
        metadata=apply_metadata({}, p.get("metadata")),
        controller_platform=platform_id,
    )
    profile = p.get("business_profile")
    if isinstance(profile, dict):
        known(profile, set(acct["business_profile"]), "business_profile")
        acct["business_profile"].update({k: v or None for k, v in profile.items()})
    req.store.accounts[acct["id"]] = acct
    req.store.connections.setdefault(platform_id, {})[acct["id"]] = "created"
    return 200, account_view(acct, platform_id)


@ROUTER.route("GET", "/v1/account")
def retrieve_own_account(req: Request) -> tuple[int, Any]:
    """The account of the key, or the Stripe-Account one (the server has checked the header)."""
    platform_id = _platform_id(req)
    if req.stripe_account:
        return 200, account_view(_reachable(req, req.stripe_account), platform_id)
    return 200, account_view(ensure_platform_account(req.store, platform_id), platform_id)


@ROUTER.route("GET", "/v1/accounts", account_scoped=False)
def list_accounts(req: Request) -> dict[str, Any]:
    """The platform's connected accounts, newest first (its own account is not one of them)."""
    platform_id = _platform_id(req)
    accts = [req.store.accounts[a] for a in connected_accounts(req.store, platform_id) if a in req.store.accounts]
    accts.sort(key=lambda a: (a.get("created", 0), a.get("_seq", 0)), reverse=True)
    return paginate(req, [account_view(a, platform_id) for a in accts], "/v1/accounts", "account")


@ROUTER.route("GET", "/v1/accounts/{account}", account_scoped=False)
def retrieve_account(req: Request) -> tuple[int, Any]:
    return 200, account_view(_reachable(req, req.path_params["account"]), _platform_id(req))


@ROUTER.route("POST", "/v1/accounts/{account}", account_scoped=False)
def update_account(req: Request) -> tuple[int, Any]:
    p = req.params
    unknown_params(p, {"email", "metadata", "settings", "business_profile"})
    platform_id = _platform_id(req)
    acct = _reachable(req, req.path_params["account"])
    own = acct["id"] == platform_id
    controls = own or _controlled_by(acct, platform_id)
    scope = "read_write" if own else connection_scope(req.store, platform_id, acct["id"])
    if scope != "read_write":
        raise _permission(acct["id"], "Having the 'read_write' scope would allow this request to continue.")
    before = copy.deepcopy(acct)
    updated = copy.deepcopy(acct)

    settings = p.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise param_invalid("settings", "Invalid object")
        known(settings, {"payouts"}, "settings")
        payouts = settings.get("payouts") or {}
        known(payouts, {"schedule", "statement_descriptor", "debit_negative_balances"}, "settings[payouts]")
        if not controls and payouts:
            # Standard accounts linked through OAuth keep their payout settings to themselves (docs/stripe-behaviour.md).
            raise _permission(acct["id"], STANDARD_DENIED)
        if "schedule" in payouts:
            updated["settings"]["payouts"]["schedule"] = _schedule(acct, payouts["schedule"])
        if "statement_descriptor" in payouts:
            updated["settings"]["payouts"]["statement_descriptor"] = payouts["statement_descriptor"] or None
        if "debit_negative_balances" in payouts:
            updated["settings"]["payouts"]["debit_negative_balances"] = bool_param(payouts, "debit_negative_balances")
    if "email" in p:
        if not controls:
            raise _permission(acct["id"], STANDARD_DENIED)
        updated["email"] = _email(p)
    profile = p.get("business_profile")
    if profile is not None:
        if not controls:
            raise _permission(acct["id"], STANDARD_DENIED)
        if not isinstance(profile, dict):
            raise param_invalid("business_profile", "Invalid object")
        known(profile, set(acct["business_profile"]), "business_profile")
        updated["business_profile"].update({k: v or None for k, v in profile.items()})
    updated["metadata"] = apply_metadata(acct["metadata"], p.get("metadata"))

    acct.clear()
    acct.update(updated)
    previous = diff(public(before), public(acct))
    view = account_view(acct, platform_id)
    if previous:
        emit(req.store, acct["id"], "account.updated", view, previous, req)
    return 200, view


def _permission(account_id: str, hint: str) -> StripeError:
    return StripeError(
        403,
        f"This application does not have the required permissions for this endpoint on account '{account_id}'. {hint}",
    )


def _schedule(acct: dict[str, Any], raw: Any) -> dict[str, Any]:
    """Validate settings[payouts][schedule][...] and return the new schedule."""
    base = "settings[payouts][schedule]"
    if not isinstance(raw, dict):
        raise param_invalid(base, "Invalid object")
    known(raw, {"interval", "weekly_anchor", "monthly_anchor", "delay_days"}, base)
    old = acct["settings"]["payouts"]["schedule"]
    interval = raw.get("interval") or old["interval"]
    _enum(interval, INTERVALS, f"{base}[interval]", "interval")
    schedule: dict[str, Any] = {"delay_days": old["delay_days"], "interval": interval}

    # Stripe's API reference (update an account, settings.payouts.schedule; the SDK's AccountUpdateParams
    # docstrings say the same): weekly_anchor is "Required and applicable only if `interval` is `weekly`",
    # monthly_anchor "Required and applicable only if `interval` is `monthly`". So a request that sets the
    # interval to weekly (monthly) without its anchor is refused like any missing parameter (400
    # parameter_missing, param = the anchor's full name); a request that leaves the interval alone keeps
    # the current anchor.
    weekly = raw.get("weekly_anchor")
    if weekly:
        if interval != "weekly":
            raise param_invalid(
                f"{base}[weekly_anchor]",
                "You can only specify `weekly_anchor` when `interval` is `weekly`.",
            )
        schedule["weekly_anchor"] = _enum(weekly, WEEKDAYS, f"{base}[weekly_anchor]", "weekly_anchor")
    elif interval == "weekly":
        if raw.get("interval") == "weekly":
            raise param_missing(f"{base}[weekly_anchor]")
        schedule["weekly_anchor"] = old.get("weekly_anchor", "monday")

    if raw.get("monthly_anchor") not in (None, ""):
        if interval != "monthly":
            raise param_invalid(
                f"{base}[monthly_anchor]",
                "You can only specify `monthly_anchor` when `interval` is `monthly`.",
            )
        anchor = int_param(raw, "monthly_anchor")
        if anchor is None or not 1 <= anchor <= 31:
            raise param_invalid(f"{base}[monthly_anchor]", "Invalid monthly_anchor: must be between 1 and 31")
        schedule["monthly_anchor"] = anchor
    elif interval == "monthly":
        if raw.get("interval") == "monthly":
            raise param_missing(f"{base}[monthly_anchor]")
        schedule["monthly_anchor"] = old.get("monthly_anchor", 1)

    if raw.get("delay_days") not in (None, ""):
        if acct["controller"].get("losses", {}).get("payments") != "application":
            # Stripe: delay_days may be edited only where the platform owns fraud and dispute liability.
            raise param_invalid(
                f"{base}[delay_days]",
                "You cannot change `delay_days` on this account: only platforms liable for its losses can.",
            )
        if raw["delay_days"] == "minimum":
            schedule["delay_days"] = 7
        else:
            days = int_param(raw, "delay_days")
            if days is None or not 7 <= days <= 30:
                raise param_invalid(f"{base}[delay_days]", "Invalid delay_days: must be between 7 and 30 for accounts in FR")
            schedule["delay_days"] = days
    return schedule


# --------------------------------------------------------------------------- Account Links


@ROUTER.route("POST", "/v1/account_links", account_scoped=False)
def create_account_link(req: Request) -> tuple[int, Any]:
    p = req.params
    unknown_params(p, {"account", "refresh_url", "return_url", "type", "collection_options", "collect"})
    for name in ("account", "type"):
        if not p.get(name):
            raise param_missing(name)
    for name in ("refresh_url", "return_url"):
        if not p.get(name):
            raise param_missing(name)
        if not re.match(r"^https?://[^\s/]+", p[name]):
            raise param_invalid(name, "Not a valid URL", code="url_invalid")
    kind = _enum(p["type"], ("account_onboarding", "account_update"), "type")
    options = p.get("collection_options")
    if options is not None:
        if not isinstance(options, dict):
            raise param_invalid("collection_options", "Invalid object")
        known(options, {"fields", "future_requirements"}, "collection_options")
        if "fields" in options:
            _enum(options["fields"], ("currently_due", "eventually_due"), "collection_options[fields]", "fields")
        if "future_requirements" in options:
            _enum(options["future_requirements"], ("include", "omit"), "collection_options[future_requirements]",
                  "future_requirements")
    if p.get("collect") is not None:
        _enum(p["collect"], ("currently_due", "eventually_due"), "collect")

    platform_id = _platform_id(req)
    account_id = p["account"]
    acct = req.store.accounts.get(account_id)
    if account_id == platform_id:
        raise param_invalid("account", "You cannot create an account link for your own account; pass a connected account.")
    if acct is None or not has_access(req.store, platform_id, account_id):
        raise missing("account", account_id, "account")
    if not _controlled_by(acct, platform_id):
        # Hosted onboarding is for accounts the platform created; an OAuth account manages itself.
        raise param_invalid(
            "account",
            f"You can only create account links for accounts your platform created; '{account_id}' was connected through OAuth.",
        )
    if kind == "account_update" and acct["controller"]["stripe_dashboard"]["type"] != "none":
        # Accounts with a Stripe-hosted dashboard (Standard, Express) update themselves there (docs/stripe-behaviour.md).
        raise param_invalid("type", 'Invalid type: must be one of ["account_onboarding"]')

    now = req.now
    token = req.store.new_id("", 12)
    req.store.table("account_links")[token] = {
        "account": account_id,
        "platform": platform_id,
        "refresh_url": p["refresh_url"],
        "return_url": p["return_url"],
        "type": kind,
        "expires_at": now + LINK_TTL,
        "used": False,
    }
    return 200, {
        "object": "account_link",
        "created": now,
        "expires_at": now + LINK_TTL,
        "url": f"{req.base_url}/setup/{account_id}/{token}",
    }


@ROUTER.route("POST", "/_sandbox/accounts/{account}/onboarding", auth="none")
def control_onboarding(req: Request) -> tuple[int, Any]:
    account_id = req.path_params["account"]
    acct = req.store.accounts.get(account_id)
    if acct is None:
        raise missing("account", account_id, "account")
    outcome = _enum(req.params.get("outcome") or "complete", ("complete", "incomplete", "restricted"), "outcome")
    before = public(acct)
    name = " ".join(str(req.params.get("business_name") or "").split())
    if name:  # the name patients see on the Checkout page, as the practitioner would type it while onboarding
        acct["business_profile"]["name"] = name
        acct["settings"]["dashboard"]["display_name"] = name
    if outcome == "complete":
        complete_onboarding(acct, req.now)
    elif outcome == "restricted":
        restrict(acct)
    # "incomplete": the person left the form early; everything stays due, as on Stripe.
    previous = diff(before, public(acct))
    viewer = acct.get("_controller")
    view = account_view(acct, viewer)
    if previous:
        emit(req.store, account_id, "account.updated", view, previous)
    return 200, view
