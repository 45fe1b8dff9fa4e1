"""The reminder email's text: the practitioner's language whatever the run's, the holds and the disputes,
and nothing it could say about a patient (a Line has no field for it)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone

from sarapay import reminder_mail
from sarapay.reminder_mail import DISPUTE, HOLD, Line

NBSP, NNBSP = "\u00a0", "\u202f"
# 2026-01-05 13:07 UTC is 14:07 in Paris (winter); 2026-07-05 13:07 UTC is 15:07 (summer).
WINTER, SUMMER = 1767618420, 1783256820
HOLDS = [
    Line(HOLD, "TC-8F3K2Q", "2026-01-03T09:30:00Z", 2500, "eur", WINTER),
    Line(HOLD, "TC-2B7XQ9", "2026-01-03T10:00:00Z", 123456, "eur", SUMMER),
]
DISPUTED = Line(DISPUTE, "TC-9ZZ4KM", "2025-12-20T08:00:00Z", 3000, "eur", SUMMER)


def cells(body: str, first: str) -> list[str]:
    """The cells of the table row starting with `first` (columns are separated by two spaces or more)."""
    [line] = [line for line in body.splitlines() if line.startswith(first)]
    return re.split(r" {2,}", line.strip())


def test_line_carries_nothing_about_the_patient():
    names = {f.name for f in dataclasses.fields(Line)}
    assert names == {"kind", "consultation_id", "scheduled_at", "amount_cents", "currency", "deadline"}


def test_french_subject_and_body(lang):
    lang("en")  # the run's language does not matter: the practitioner's does
    assert reminder_mail.subject(HOLDS, "fr") == "sarapay : 2 empreintes à capturer avant le 05/01/2026 14:07"
    body = reminder_mail.body(HOLDS, lang="fr", name="Dre Martin")
    assert body.startswith("Bonjour Dre Martin,\n")
    assert cells(body, "TC-8F3K2Q") == ["TC-8F3K2Q", "03/01/2026 10:30", f"25,00{NBSP}€", "05/01/2026 14:07"]
    assert cells(body, "TC-2B7XQ9") == ["TC-2B7XQ9", "03/01/2026 11:00", f"1{NNBSP}234,56{NBSP}€", "05/07/2026 15:07"]
    assert cells(body, "Consultation") == ["Consultation", "Date (Paris)", "Montant retenu", "À capturer avant (Paris)"]
    assert "  sarapay capture TC-8F3K2Q\n  sarapay capture TC-2B7XQ9\n" in body
    assert "Contestation" not in body and "aucune donnée de patient" in body


def test_english_subject_and_body_without_a_name():
    assert reminder_mail.subject(HOLDS[:1], "en") == "sarapay: 1 card hold to capture before 2026-01-05 14:07"
    body = reminder_mail.body(HOLDS[:1], lang="en")
    assert body.startswith("Hello,\n") and "€25.00" in body and "Capture before" in body


def test_disputes_have_their_own_section_and_subject():
    assert reminder_mail.subject([DISPUTED], "fr").startswith("sarapay : 1 contestation de paiement à traiter avant le 05/07/2026")
    both = reminder_mail.subject([*HOLDS, DISPUTED], "fr")
    assert both == "sarapay : 2 empreintes à capturer et 1 contestation de paiement à traiter avant le 05/01/2026 14:07"
    body = reminder_mail.body([*HOLDS, DISPUTED], lang="fr", name=None)
    assert cells(body, "TC-9ZZ4KM") == ["TC-9ZZ4KM", "20/12/2025 09:00", f"30,00{NBSP}€", "05/07/2026 15:07"]
    assert "Montant contesté" in body and "Répondre avant (Paris)" in body
    assert "sarapay capture TC-9ZZ4KM" not in body  # a dispute is answered, not captured


def test_message_headers():
    now = datetime(2026, 1, 4, 8, 0, tzinfo=timezone.utc)
    message = reminder_mail.build_message(
        HOLDS, lang="fr", name="Dre Martin", to="dr.martin@example.fr", sender="rappels@portail.example.fr", now=now,
    )
    assert message["From"] == "rappels@portail.example.fr" and message["To"] == "dr.martin@example.fr"
    assert message["Message-ID"].endswith("@portail.example.fr>")
    assert message["Date"] == "Sun, 04 Jan 2026 09:00:00 +0100"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "fr"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content() == reminder_mail.body(HOLDS, lang="fr", name="Dre Martin")
