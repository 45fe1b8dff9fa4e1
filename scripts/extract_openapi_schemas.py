"""Writes tests/sandbox/openapi_extract.json: the part of Stripe's OpenAPI spec the sandbox answers with.

    .venv/bin/python scripts/extract_openapi_schemas.py SPEC --commit SHA [--path-in-repo PATH]

SPEC is a spec file of github.com/stripe/openapi (`latest/openapi.spec3.json`, or `openapi/spec3.json`;
a `.yaml` one works too when PyYAML is installed), COMMIT the commit of that repository it comes from.
The full spec is several megabytes, so only its reduction is kept in the repository:

- the schemas of the objects the sandbox returns (ROOTS) and of the nested objects it fills in (NESTED);
- of each, its required fields and, per property, only type, nullable, enum, items, values (for
  additionalProperties), inline properties/required, and references. A `$ref` becomes {"ref": NAME};
  an expandable field (`anyOf: [string, $ref]`) keeps both members, so an id or the object both pass.
- "list" is the list envelope Stripe uses everywhere (taken from `charge.refunds`, a RefundList), with its
  items left open: each item is checked against the schema of its own `object`.

tests/sandbox/test_conformance_openapi.py validates the sandbox against this file. When the sandbox starts
filling in a nested object whose schema is not kept here, that test says which one: add it to NESTED and
rerun this script on the same spec (or a newer one, recording its commit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "sandbox" / "openapi_extract.json"

# Objects the sandbox returns on their own, listed, expanded or inside events (src/sarapay/sandbox/).
ROOTS = [
    "account",
    "account_link",
    "application",
    "application_fee",
    "balance",
    "balance_transaction",
    "charge",
    "checkout.session",
    "dispute",
    "error",
    "event",
    "item",
    "payment_intent",
    "payment_method",
    "payout",
    "price",
    "refund",
]

# Nested objects the sandbox fills in (a nested field left null or empty needs no schema here).
NESTED = [
    "account_branding_settings",
    "account_business_profile",
    "account_capabilities",
    "account_card_payments_settings",
    "account_dashboard_settings",
    "account_decline_charge_on",
    "account_future_requirements",
    "account_payments_settings",
    "account_payout_settings",
    "account_requirements",
    "account_settings",
    "account_tos_acceptance",
    "account_unification_account_controller",
    "account_unification_account_controller_fees",
    "account_unification_account_controller_losses",
    "account_unification_account_controller_stripe_dashboard",
    "api_errors",
    "balance_amount",
    "balance_amount_by_source_type",
    "billing_details",
    "charge_fraud_details",
    "charge_outcome",
    "dispute_enhanced_eligibility",
    "dispute_enhanced_evidence",
    "dispute_evidence",
    "dispute_evidence_details",
    "dispute_payment_method_details",
    "dispute_payment_method_details_card",
    "fee",
    "notification_event_data",
    "notification_event_request",
    "payment_flows_amount_details",
    "payment_flows_amount_details_client_resource_tip",
    "payment_intent_payment_method_options",
    "payment_intent_payment_method_options_card",
    "payment_method_card",
    "payment_method_card_checks",
    "payment_method_details",
    "payment_method_details_card",
    "payment_method_details_card_checks",
    "payment_pages_checkout_session_automatic_tax",
    "payment_pages_checkout_session_custom_text",
    "payment_pages_checkout_session_customer_details",
    "payment_pages_checkout_session_phone_number_collection",
    "payment_pages_checkout_session_total_details",
    "networks",
    "refund_destination_details",
    "refund_destination_details_card",
    "transfer_schedule",
]

# The list envelope: the inline RefundList of a charge, the same shape as every other list.
LIST_FROM = ("charge", "refunds")

KEPT_KEYS = {"type", "nullable", "enum", "items", "properties", "required", "additionalProperties", "$ref",
             "anyOf", "oneOf"}


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # only needed for the YAML flavour of the spec

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return json.loads(text)


def ref_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ValueError(f"unexpected $ref {ref!r}")
    return ref[len(prefix):]


def reduce(node: dict[str, Any], where: str) -> dict[str, Any]:
    """A schema node reduced to what the conformance test reads."""
    if "allOf" in node or "not" in node:
        raise ValueError(f"{where}: allOf/not is not handled by the extract; extend reduce()")
    if "$ref" in node:
        return {"ref": ref_name(node["$ref"])}
    out: dict[str, Any] = {}
    for key in ("anyOf", "oneOf"):
        if key in node:
            out["anyOf"] = [reduce(m, f"{where}.{key}[{i}]") for i, m in enumerate(node[key])]
    if "type" in node:
        out["type"] = node["type"]
    if node.get("nullable"):
        out["nullable"] = True
    if "enum" in node:
        out["enum"] = list(node["enum"])
    if "items" in node:
        out["items"] = reduce(node["items"], f"{where}[]")
    if "properties" in node:
        out["properties"] = {k: reduce(v, f"{where}.{k}") for k, v in sorted(node["properties"].items())}
    if node.get("required"):
        out["required"] = sorted(node["required"])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["values"] = reduce(extra, f"{where}{{}}")
    return out


def extract(spec: dict[str, Any], *, commit: str, path_in_repo: str) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    absent = [name for name in ROOTS + NESTED if name not in schemas]
    if absent:
        raise SystemExit(f"not in this spec: {', '.join(absent)}")
    kept = {name: reduce(schemas[name], name) for name in sorted(ROOTS + NESTED)}

    owner, field = LIST_FROM
    envelope = reduce(schemas[owner]["properties"][field], f"{owner}.{field}")
    envelope.pop("nullable", None)
    envelope["properties"]["data"]["items"] = {"type": "object"}  # any object, checked by its own `object`
    kept["list"] = envelope

    # `object` value -> schema name, to check an object wherever it appears (list items, event data).
    objects = {}
    for name in ROOTS:
        enum = kept[name].get("properties", {}).get("object", {}).get("enum") or []
        if len(enum) == 1:
            objects[enum[0]] = name
    objects["list"] = "list"

    return {
        "source": {
            "repository": "https://github.com/stripe/openapi",
            "commit": commit,
            "path": path_in_repo,
            "version": spec["info"]["version"],
        },
        "generated_by": "scripts/extract_openapi_schemas.py",
        "objects": dict(sorted(objects.items())),
        "schemas": kept,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="a spec file of github.com/stripe/openapi")
    parser.add_argument("--commit", required=True, help="the stripe/openapi commit the spec file comes from")
    parser.add_argument("--path-in-repo", help="the spec's path in that repository (default: its file name)")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    result = extract(load(args.spec), commit=args.commit, path_in_repo=args.path_in_repo or args.spec.name)
    # One property per line: a new spec shows up as a readable diff.
    args.out.write_text(json.dumps(result, indent=1, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(result['schemas'])} schemas from spec {result['source']['version']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
