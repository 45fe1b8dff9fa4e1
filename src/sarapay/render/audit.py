"""`sarapay log`: the audit table and its details in words."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from sarapay import i18n
from sarapay.render import cells, console, payouts

if TYPE_CHECKING:
    from sarapay.records import AuditEntry


i18n.register(
    {
        "view.col.at": {"fr": "Quand (Paris)", "en": "When (Paris)"},
        "view.col.actor": {"fr": "Qui", "en": "Who"},
        "view.col.command": {"fr": "Commande", "en": "Command"},
        "view.col.target": {"fr": "Cible", "en": "Target"},
        "view.col.outcome": {"fr": "Résultat", "en": "Outcome"},
        "view.col.detail": {"fr": "Détail", "en": "Detail"},
        "view.col.request_id": {"fr": "Requête Stripe", "en": "Stripe request"},
        "view.outcome.ok": {"fr": "OK", "en": "OK"},
        "view.outcome.refused": {"fr": "Refusé", "en": "Refused"},
        "view.outcome.error": {"fr": "Erreur", "en": "Error"},
        "view.outcome.dry_run": {"fr": "Simulation", "en": "Dry run"},
        "view.outcome.cancelled": {"fr": "Abandonné", "en": "Cancelled"},
    }
)


i18n.register(
    {
        "log.detail.capture": {"fr": "capture de {amount}", "en": "capture of {amount}"},
        "log.detail.cancel": {"fr": "libération de l'empreinte", "en": "hold released"},
        "log.detail.close_link": {"fr": "lien de paiement fermé", "en": "payment link closed"},
        "log.detail.cancel_local": {"fr": "annulée sans paiement en ligne (rien envoyé à Stripe)",
                                    "en": "canceled without online payment (nothing sent to Stripe)"},
        "log.detail.refund": {"fr": "remboursement de {amount}", "en": "refund of {amount}"},
        "log.detail.outcome_unknown": {"fr": "résultat inconnu (voir status --refresh)",
                                       "en": "outcome unknown (see status --refresh)"},
        "log.detail.interrupted": {"fr": "interrompu", "en": "interrupted"},
        "log.detail.healthy": {"fr": "appariement en ordre", "en": "pairing healthy"},
        "log.detail.needs-attention": {"fr": "appariement à reprendre", "en": "pairing needs attention"},
        "log.detail.denied": {"fr": "refusé par le praticien", "en": "declined by the practitioner"},
        "log.detail.no-onboarding-link": {"fr": "sans lien d'inscription", "en": "no onboarding link"},
        "log.detail.force": {"fr": "forcé", "en": "forced"},
        "log.detail.max": {"fr": "maximum {before} → {after}", "en": "maximum from {before} to {after}"},
        "log.detail.refreshed": {"fr": "{n} mise à jour|{n} mises à jour", "en": "{n} brought up to date|{n} brought up to date"},
        "log.detail.failed": {"fr": "{n} en échec|{n} en échec", "en": "{n} failed|{n} failed"},
        "log.detail.added": {"fr": "{n} ajoutée|{n} ajoutées", "en": "{n} added|{n} added"},
        "log.detail.corrected": {"fr": "{n} corrigée|{n} corrigées", "en": "{n} corrected|{n} corrected"},
        "log.detail.unread": {"fr": "{n} illisible|{n} illisibles", "en": "{n} unread|{n} unread"},
        "log.detail.updated": {"fr": "{n} mise à jour|{n} mises à jour", "en": "{n} updated|{n} updated"},
        "log.detail.rows": {"fr": "{n} ligne copiée|{n} lignes copiées", "en": "{n} row copied|{n} rows copied"},
        "log.detail.tables": {"fr": "{n} table|{n} tables", "en": "{n} table|{n} tables"},
        "log.detail.checksums_verified": {"fr": "sommes de contrôle vérifiées", "en": "checksums verified"},
        "log.detail.needs_action": {"fr": "{n} à traiter|{n} à traiter", "en": "{n} needs action|{n} need action"},
        "log.detail.holds": {"fr": "{n} empreinte en cours|{n} empreintes en cours", "en": "{n} open hold|{n} open holds"},
        "log.detail.schedule": {"fr": "versements : {text}", "en": "payouts: {text}"},
    }
)
_IDEMPOTENCY = re.compile(r"^sarapay:\S+$")
_MESSAGE_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_-]+)+,?$")
_COUNT = re.compile(r"^(?P<key>[a-z_]+)=(?P<value>\S*)$")
_MAX_CHANGE = re.compile(r"^(?P<before>\d+|None)->(?P<after>\d+)$")


def _short_message(key: str, target: str | None) -> str:
    """A catalog message as a short phrase: its first clause, the row's target for the consultation or the
    practitioner it names, other values left out."""
    text = i18n.catalog()[key][i18n.get_lang()]
    text = re.sub(r"\s*\(\{[^}]*\}\)", "", text)
    text = re.sub(r"\{(consultation_id|rpps|target)\}", target or "…", text)
    text = re.sub(r"\{[^}]*\}", "…", text)
    return re.split(r" : |: |\. | ; |; | \(", text, maxsplit=1)[0].rstrip(" .")


def audit_detail_text(detail: str | None, target: str | None = None) -> str:
    """The stored detail of an audit row (message keys, counters, amounts in cents, idempotency keys) as
    short words for people: `capture 2000 sarapay:capture:…` → « capture de 20,00 € »,
    `paylink.already_authorised` → the message's first clause. `--json` keeps the stored text."""
    if not detail:
        return ""
    catalog = i18n.catalog()
    pairs = dict(word.split("=", 1) for word in detail.split() if "=" in word)
    if "interval" in pairs:  # payouts --schedule: interval=weekly weekly_anchor=monday delay_days=7
        schedule = {**pairs, "delay_days": int(pairs["delay_days"]) if pairs.get("delay_days", "").isdigit() else None}
        return i18n.t("log.detail.schedule", text=payouts.schedule_text(schedule)).capitalize()
    words = detail.replace(", outcome unknown", " outcome_unknown").replace("outcome unknown", "outcome_unknown").split()
    said: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in ("capture", "refund") and following.isdigit():
            said.append(i18n.t(f"log.detail.{word}", amount=cells.amount(int(following))))
            i += 2
            continue
        if word in ("cancel", "close_link", "cancel_local") and following.isdigit():
            said.append(i18n.t(f"log.detail.{word}"))
            i += 2
            continue
        i += 1
        bare = word.rstrip(",")
        if _IDEMPOTENCY.match(bare):
            continue  # an idempotency key says nothing to a person (kept in --json)
        if f"log.detail.{bare}" in catalog and "{" not in catalog[f"log.detail.{bare}"]["fr"]:
            said.append(i18n.t(f"log.detail.{bare}"))
        elif (match := _COUNT.match(bare)) and match["value"].isdigit() and f"log.detail.{match['key']}" in catalog:
            said.append(i18n.count(f"log.detail.{match['key']}", int(match["value"])))
        elif match := _MAX_CHANGE.match(bare):
            before = cells.amount(int(match["before"])) if match["before"].isdigit() else i18n.t("view.none")
            said.append(i18n.t("log.detail.max", before=before, after=cells.amount(int(match["after"]))))
        elif _MESSAGE_KEY.match(bare) and bare in catalog:
            said.append(_short_message(bare, target))
        else:
            said.append(bare)
    text = ", ".join(said)
    return text[:1].upper() + text[1:]


# Narrow terminals: when, what, on what, how it ended come first; who and Stripe's request id when room is left.
_AUDIT_PRIORITY = ["view.col.at", "view.col.command", "view.col.target", "view.col.outcome", "view.col.actor", "view.col.request_id"]


AUDIT_COLUMNS = ["view.col.at", "view.col.actor", "view.col.command", "view.col.target", "view.col.outcome",
                 "view.col.detail", "view.col.request_id"]


def audit_cells(entry: AuditEntry) -> list[str]:
    """One audit entry as the cells of the log table (AUDIT_COLUMNS), the detail in words."""
    none = i18n.t("view.none")
    return [
        cells.when(entry.at),
        entry.actor,
        entry.command,  # as --command takes it
        entry.target or none,
        i18n.t(f"view.outcome.{entry.outcome}"),
        audit_detail_text(entry.detail, entry.target),
        entry.stripe_request_id or none,
    ]


def audit_table(entries: Iterable[AuditEntry]) -> int:
    """The audit log, fitted to the terminal like `status`: whole cells (no id cut short), the less useful
    columns left out on a narrow terminal (named on stderr), the detail in words, wrapped in the room left."""
    rows = [audit_cells(entry) for entry in entries]
    table, hidden = cells.fitted(AUDIT_COLUMNS, rows, priority=_AUDIT_PRIORITY, wrap="view.col.detail", wrap_min=18)
    console.print_data(table)
    cells.say_hidden(hidden, "view.hidden_log_columns")
    return len(rows)
