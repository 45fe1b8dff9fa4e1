"""`sarapay prefs show`: the practitioners table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from sarapay import i18n
from sarapay.render import cells, console

if TYPE_CHECKING:
    from sarapay.records import Practitioner


# --- practitioners (prefs show) -------------------------------------------------------------------------

i18n.register(
    {
        "view.link_method.oauth": {"fr": "Connect OAuth", "en": "Connect OAuth"},
        "view.link_method.created": {"fr": "créé par la plateforme", "en": "created by the platform"},
        "view.link_method.attached": {"fr": "rattaché", "en": "attached"},
        "view.link_method.none": {"fr": "non lié", "en": "not linked"},
        "view.col.practitioner_name": {"fr": "Nom", "en": "Name"},
        "view.col.email": {"fr": "E-mail", "en": "Email"},
        "view.col.account": {"fr": "Compte Stripe", "en": "Stripe account"},
        "view.col.link_method": {"fr": "Liaison", "en": "Link"},
        "view.col.default_max": {"fr": "Maximum par défaut", "en": "Default maximum"},
        "view.col.lang": {"fr": "Langue", "en": "Language"},
    }
)


def link_method_label(method: str | None) -> str:
    return i18n.t(f"view.link_method.{method or 'none'}")


def practitioners_table(rows: Iterable[Practitioner]) -> int:
    """RPPS, name, masked email, account, link method, default maximum, language of their emails; returns the
    number of rows."""
    from sarapay.ids import mask_email

    table = cells.new_table(
        "view.col.rpps", "view.col.practitioner_name", "view.col.email", "view.col.account", "view.col.link_method",
        "view.col.default_max", "view.col.lang", right=("view.col.default_max",),
    )
    count = 0
    for row in rows:
        count += 1
        table.add_row(
            row.rpps, row.name or "", mask_email(row.email), row.account_id or "",
            link_method_label(row.link_method), cells.amount(row.default_max_cents), row.lang or "fr",
        )
    console.print_data(table)
    return count
