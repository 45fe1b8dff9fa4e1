"""`sarapay sync --rebuild`: the ledger's consultations rebuilt from Stripe (the system of record).

Exit codes: 0 every linked account was read · 6 one could not be read (network; the others were rebuilt,
re-run it) · 5 Stripe refused one (access revoked) · 2 no linked practitioner · 1 a reconcile or sync is running.
"""

from __future__ import annotations

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_RECONCILE, app, global_options
from sarapay.cli.output import Output, emit_document, output_flags

i18n.register(
    {
        "sync.added": {"fr": "ajoutée · {consultation_id} · {state}", "en": "added · {consultation_id} · {state}"},
        "sync.corrected": {
            "fr": "corrigée · {consultation_id} · {fields}",
            "en": "corrected · {consultation_id} · {fields}",
        },
        "sync.summary": {
            "fr": "Reconstruction depuis Stripe : {sessions} sur {accounts} ; {consultations} : "
            "{added}, {corrected}, {unchanged}.",
            "en": "Rebuilt from Stripe: {sessions} on {accounts}; {consultations}: {added}, {corrected}, {unchanged}.",
        },
        "sync.n.sessions": {"fr": "{n} session de paiement lue|{n} sessions de paiement lues",
                            "en": "{n} payment session read|{n} payment sessions read"},
        "sync.n.accounts": {"fr": "{n} compte|{n} comptes", "en": "{n} account|{n} accounts"},
        "sync.n.consultations": {"fr": "{n} consultation|{n} consultations", "en": "{n} consultation|{n} consultations"},
        "sync.n.added": {"fr": "{n} ajoutée|{n} ajoutées", "en": "{n} added|{n} added"},
        "sync.n.corrected": {"fr": "{n} corrigée|{n} corrigées", "en": "{n} corrected|{n} corrected"},
        "sync.n.unchanged": {"fr": "{n} déjà à jour|{n} déjà à jour", "en": "{n} already up to date|{n} already up to date"},
        "sync.other_sessions": {
            "fr": "Les autres sessions lues sont d'anciens liens d'une même consultation, ou ne viennent pas de sarapay.",
            "en": "The other sessions read are earlier links of the same consultation, or do not come from sarapay.",
        },
        "sync.kept_offline": {
            "fr": "{n} consultation sans paiement en ligne n'est pas sur Stripe : gardée telle quelle. La référence patient "
            "et l'historique ne viennent jamais de Stripe non plus.|{n} consultations sans paiement en ligne ne sont pas "
            "sur Stripe : gardées telles quelles. La référence patient et l'historique ne viennent jamais de Stripe non plus.",
            "en": "{n} consultation without online payment is not on Stripe: kept as it is. Patient references and history "
            "never come from Stripe either.|{n} consultations without online payment are not on Stripe: kept as they are. "
            "Patient references and history never come from Stripe either.",
        },
        "sync.not_found": {
            "fr": "Absentes du compte Stripe de leur praticien, gardées telles quelles : {ids}.",
            "en": "Not on their practitioner's Stripe account, kept as they are: {ids}.",
        },
        "sync.unknown_practitioner": {
            "fr": "{n} consultation d'un praticien absent du registre, ignorée (RPPS {rpps}) : rattachez-le "
            "(sarapay link RPPS --account acct_…) puis relancez.|{n} consultations d'un praticien absent du registre, "
            "ignorées (RPPS {rpps}) : rattachez-le (sarapay link RPPS --account acct_…) puis relancez.",
            "en": "{n} consultation of a practitioner missing from the ledger, skipped (RPPS {rpps}): attach them "
            "(sarapay link RPPS --account acct_…) and run this again.|{n} consultations of a practitioner missing from "
            "the ledger, skipped (RPPS {rpps}): attach them (sarapay link RPPS --account acct_…) and run this again.",
        },
        "sync.approximate_time": {
            "fr": "Heure prévue absente des métadonnées Stripe (sessions créées avant que sarapay l'y mette) : "
            "heure de création de la session utilisée pour {ids}.",
            "en": "Planned time missing from Stripe's metadata (sessions created before sarapay put it there): "
            "the session's creation time is used for {ids}.",
        },
        "sync.unread": {
            "fr": "Compte {account} (RPPS {rpps}) non lu : {reason} Relancez « sarapay sync --rebuild » ensuite.",
            "en": "Account {account} (RPPS {rpps}) not read: {reason} Run 'sarapay sync --rebuild' again afterwards.",
        },
        "sync.progress": {"fr": "Comptes Stripe lus", "en": "Stripe accounts read"},
    }
)


@app.command(
    "sync",
    rich_help_panel=PANEL_RECONCILE,
    epilog="Exemple : [bold]sarapay sync --rebuild[/] (sur une nouvelle machine, après avoir rattaché les praticiens "
    "avec « sarapay link RPPS --account acct_… »).",
)
@output_flags("json")
def sync(
    ctx: typer.Context,
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Reconstruit les consultations payées en ligne depuis Stripe, dans un registre vide ou existant."
    ),
    output: Output = Output.HUMAN,
) -> None:
    """Reconstruit le registre depuis Stripe (la référence) : ajoute les consultations payées en ligne qui manquent,
    corrige celles qui divergent ; les consultations sans paiement en ligne et les références patient restent telles quelles."""
    from sarapay import statuses
    from sarapay.render import console
    from sarapay.errors import BadInput
    from sarapay.services import sync as service
    from sarapay.services.context import Context

    if not rebuild:
        raise BadInput("sync.needs_rebuild")
    bar = console.progress(i18n.t("sync.progress"), enabled=not output.machine)
    with Context(live=global_options(ctx).live) as services, bar as progress:
        report = service.rebuild(services, progress=progress)

    if output is Output.JSON:
        emit_document(service.report_document(report))
    else:
        for gap in report.unread:
            console.warn(i18n.t("sync.unread", account=gap.account_id, rpps=gap.rpps, reason=gap.message))
        for cid, state in report.added:
            console.data_line(i18n.t("sync.added", consultation_id=cid, state=statuses.label(state)))
        for cid, fields in report.corrected:
            console.data_line(i18n.t("sync.corrected", consultation_id=cid, fields=", ".join(fields)))
        # Counted per consultation: a consultation may have several sessions (pay-link), so the two totals
        # are said apart and the three outcomes add up to the consultations.
        consultations = len(report.added) + len(report.corrected) + report.unchanged
        console.message(
            i18n.t("sync.summary", sessions=i18n.count("sync.n.sessions", report.sessions),
                   accounts=i18n.count("sync.n.accounts", report.accounts),
                   consultations=i18n.count("sync.n.consultations", consultations),
                   added=i18n.count("sync.n.added", len(report.added)),
                   corrected=i18n.count("sync.n.corrected", len(report.corrected)),
                   unchanged=i18n.count("sync.n.unchanged", report.unchanged))
        )
        if report.sessions > consultations:
            console.message(i18n.t("sync.other_sessions"))
        if report.kept_offline:
            console.message(i18n.count("sync.kept_offline", report.kept_offline))
        if report.not_found:
            console.warn(i18n.t("sync.not_found", ids=", ".join(report.not_found)))
        if report.unknown_practitioner:
            numbers = sorted({rpps for _, rpps in report.unknown_practitioner})
            console.warn(i18n.count("sync.unknown_practitioner", len(report.unknown_practitioner), rpps=", ".join(numbers)))
        if report.approximate_time:
            console.warn(i18n.t("sync.approximate_time", ids=", ".join(report.approximate_time)))
    if report.exit_code:
        raise typer.Exit(report.exit_code)

