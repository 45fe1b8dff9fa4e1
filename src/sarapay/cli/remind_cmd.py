"""`sarapay remind`: the cron job that emails each practitioner the card holds to capture before they expire.

Exit codes: 0 every reminder due was sent (or there was none) · 8 a practitioner cannot be reminded until a
person acts (no email address, address refused by the server) · 6 the mail server cannot be reached, or
failed mid-way (what was not sent goes on the next run; what was sent never goes again) · 4 the mail
settings are incomplete, the login or STARTTLS is refused (nothing sent) · 1 another `remind` is running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_RECONCILE, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_document, output_flags

if TYPE_CHECKING:
    from sarapay.services.remind import PractitionerReminder, RemindReport

i18n.register(
    {
        "remind.summary": {
            "fr": "Rappels : {sent}, {already}, {no_email} sans adresse, {failed}.",
            "en": "Reminders: {sent}, {already}, {no_email} without an address, {failed}.",
        },
        "remind.n_sent": {"fr": "{n} e-mail envoyé|{n} e-mails envoyés", "en": "{n} email sent|{n} emails sent"},
        "remind.n_already": {
            "fr": "{n} praticien déjà prévenu|{n} praticiens déjà prévenus",
            "en": "{n} practitioner already told|{n} practitioners already told",
        },
        "remind.n_failed": {"fr": "{n} non envoyé|{n} non envoyés", "en": "{n} not sent|{n} not sent"},
        "remind.n_would_send": {
            "fr": "{n} e-mail serait envoyé|{n} e-mails seraient envoyés",
            "en": "{n} email would be sent|{n} emails would be sent",
        },
        "remind.n_waiting": {"fr": "{n} rappel en attente|{n} rappels en attente", "en": "{n} reminder waiting|{n} reminders waiting"},
        "remind.n_reminders": {"fr": "{n} rappel|{n} rappels", "en": "{n} reminder|{n} reminders"},
        "remind.summary_dry_run": {
            "fr": "Simulation : {emails} ; rien n'est envoyé ni enregistré.",
            "en": "Dry run: {emails}; nothing is sent nor recorded.",
        },
        "remind.nothing": {
            "fr": "Aucune empreinte à capturer dans les {window} : aucun rappel à envoyer.",
            "en": "No hold to capture within {window}: no reminder to send.",
        },
        "remind.no_email": {
            "fr": "Le praticien {rpps}{name} n'a pas d'adresse e-mail : {waiting}. Ajoutez-la avec "
            "« sarapay link {rpps} --account {account} --email EMAIL ».",
            "en": "Practitioner {rpps}{name} has no email address: {waiting}. Add it with "
            "'sarapay link {rpps} --account {account} --email EMAIL'.",
        },
        "remind.refused": {
            "fr": "E-mail au praticien {rpps} refusé par le serveur ({reason}) : {retry}",
            "en": "Email to practitioner {rpps} refused by the server ({reason}): {retry}",
        },
        "remind.retry_next_run": {"fr": "il repartira au prochain passage.", "en": "it will go again on the next run."},
        "remind.check_address": {
            "fr": "vérifiez l'adresse du praticien et celle de l'expéditeur (sarapay config show) ; il repartira au prochain passage.",
            "en": "check the practitioner's address and the sender's (sarapay config show); it will go again on the next run.",
        },
        "remind.refresh_busy": {
            "fr": "Un rapprochement est en cours : les empreintes sont lues dans le registre tel qu'il le met à jour.",
            "en": "A reconcile is running: the holds are read from the ledger as it updates it.",
        },
        "remind.refresh_unavailable": {
            "fr": "Compte {account} (RPPS {rpps}) non lu chez Stripe ({reason}) : ses empreintes sont lues dans le registre.",
            "en": "Account {account} (RPPS {rpps}) not read from Stripe ({reason}): its holds are read from the ledger.",
        },
        "remind.progress": {"fr": "Comptes Stripe lus", "en": "Stripe accounts read"},
        "remind.preview.header": {"fr": "{label} : {value}", "en": "{label}: {value}"},
        "remind.preview.from": {"fr": "De", "en": "From"},
        "remind.preview.to": {"fr": "À", "en": "To"},
        "remind.preview.subject": {"fr": "Objet", "en": "Subject"},
        "remind.outcome.sent": {"fr": "envoyé", "en": "sent"},
        "remind.outcome.would_send": {"fr": "serait envoyé", "en": "would be sent"},
        "remind.outcome.already_sent": {"fr": "déjà prévenu", "en": "already told"},
        "remind.outcome.no_email": {"fr": "sans adresse e-mail", "en": "no email address"},
        "remind.outcome.refused": {"fr": "refusé par le serveur", "en": "refused by the server"},
        "remind.outcome.not_sent": {"fr": "non envoyé", "en": "not sent"},
        "remind.line": {
            "fr": "{rpps}{name} · {outcome} · {reminders} · {ids}",
            "en": "{rpps}{name} · {outcome} · {reminders} · {ids}",
        },
    }
)


@app.command(
    "remind",
    rich_help_panel=PANEL_RECONCILE,
    epilog="Exemples : [bold]sarapay remind --dry-run[/] (montre les e-mails, n'envoie rien) · "
    "[bold]sarapay remind --within 24h --json[/] · cron : [bold]0 * * * * sarapay remind --json >> /var/log/sarapay/remind.json "
    "|| alerte[/] (code 8 : un praticien sans adresse ; 6 : serveur d'envoi injoignable, repris au passage suivant ; "
    "4 : réglage SMTP à corriger).",
)
@output_flags("json")
def remind(
    ctx: typer.Context,
    within: str = typer.Option(
        "48h", "--within", metavar="DURÉE", help="Rappelle les empreintes à capturer, et les contestations à traiter, avant cette échéance (48h, 2j, 36h…).",
    ),
    practitioner: Optional[str] = typer.Option(
        None, "--practitioner", "-p", metavar="RPPS", help="Seulement ce praticien (RPPS).", autocompletion=rpps_numbers,
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Affiche les e-mails qui partiraient ; n'envoie et n'enregistre rien."),
    no_refresh: bool = typer.Option(
        False, "--no-refresh",
        help="Lit le registre tel que le dernier rapprochement l'a laissé, sans rien demander à Stripe.",
    ),
    output: Output = Output.HUMAN,
) -> None:
    """Envoie à chaque praticien un e-mail listant ses empreintes à capturer avant l'échéance, et ses contestations
    à traiter (identifiant, date, montant, échéance ; rien sur le patient), dans sa langue (prefs set-lang). Les
    paiements en cours sont d'abord mis à jour depuis Stripe. Chaque rappel ne part qu'une fois : sans danger à relancer."""
    from sarapay import timefmt
    from sarapay.render import console
    from sarapay.errors import EXIT_NEEDS_ACTION, MailUnavailable
    from sarapay.services import remind as service
    from sarapay.services.context import Context

    window = timefmt.parse_duration(within)
    bar = console.progress(i18n.t("remind.progress"), enabled=not output.machine)
    with Context(live=global_options(ctx).live) as services, bar as progress:
        report = service.remind(
            services, within=window, rpps=practitioner, dry_run=dry_run, refresh_first=not no_refresh, progress=progress,
        )
        accounts = {p.rpps: p.account_id for p in services.ledger.list_practitioners()}

    if output is Output.JSON:
        emit_document(service.report_document(report))
    else:
        _show(report, accounts, within.strip())
    if report.incomplete:
        raise typer.Exit(MailUnavailable.exit_code)
    if report.needs_action:
        raise typer.Exit(EXIT_NEEDS_ACTION)


def _show(report: RemindReport, accounts: dict[str, str | None], within: str) -> None:
    from sarapay.render import console
    from sarapay.ids import mask_email
    from sarapay.services import remind as service

    if report.refresh == "busy":
        console.warn(i18n.t("remind.refresh_busy"))
    for gap in report.unavailable:
        console.warn(i18n.t("remind.refresh_unavailable", account=gap.account_id, rpps=gap.rpps, reason=gap.message))
    if not report.practitioners:
        console.message(i18n.t("remind.nothing", window=within))
        return
    for reminder in report.practitioners:
        name = f" ({reminder.name})" if reminder.name else ""
        if report.dry_run and reminder.outcome == service.WOULD_SEND:
            _preview(reminder, mask_email)
            continue
        lines = reminder.lines or reminder.already
        console.data_line(
            i18n.t("remind.line", rpps=reminder.rpps, name=name, outcome=i18n.t(f"remind.outcome.{reminder.outcome}"),
                   reminders=i18n.count("remind.n_reminders", len(lines)),
                   ids=", ".join(line.consultation_id for line in lines))
        )
        if reminder.outcome == service.NO_EMAIL:
            console.warn(i18n.t("remind.no_email", rpps=reminder.rpps, name=name,
                               waiting=i18n.count("remind.n_waiting", len(reminder.lines)),
                               account=accounts.get(reminder.rpps) or "acct_…"))
        elif reminder.outcome == service.REFUSED:
            error = reminder.error
            retry = i18n.t("remind.retry_next_run" if error is not None and error["temporary"] else "remind.check_address")
            reason = (error["reason"] if error else None) or ""
            console.warn(i18n.t("remind.refused", rpps=reminder.rpps, reason=reason, retry=retry))
    if report.stopped is not None:
        console.warn(report.stopped.message)
    if report.dry_run:
        console.message(i18n.t("remind.summary_dry_run", emails=i18n.count("remind.n_would_send", report.count(service.WOULD_SEND))))
    else:
        console.message(
            i18n.t(
                "remind.summary", sent=i18n.count("remind.n_sent", report.count(service.SENT)),
                already=i18n.count("remind.n_already", report.count(service.ALREADY_SENT)),
                no_email=report.count(service.NO_EMAIL),
                failed=i18n.count("remind.n_failed", report.count(service.REFUSED) + report.count(service.NOT_SENT)),
            )
        )


def _preview(reminder: PractitionerReminder, mask_email: Callable[[str | None], str]) -> None:
    """One email as it would leave: a few headers, then its body as is (the practitioner's language)."""
    from sarapay import settings
    from sarapay.render import console

    sender = settings.load_smtp().sender or "—"
    headers = (("remind.preview.from", sender), ("remind.preview.to", mask_email(reminder.email)),
               ("remind.preview.subject", reminder.subject))
    for key, value in headers:
        console.data_line(i18n.t("remind.preview.header", label=i18n.t(key), value=value))
    console.data_line("")
    for line in (reminder.body or "").rstrip("\n").split("\n"):
        console.data_line(line)
    console.data_line("")

