"""`sarapay sandbox serve|pay|consent|advance`: the embedded Stripe-compatible sandbox."""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SANDBOX, app, global_options
from sarapay.cli.completion import consultation_ids

i18n.register(
    {
        "sandbox.serving": {
            "fr": "Bac à sable Stripe à l'écoute sur {url} (Ctrl-C pour arrêter). Pointez sarapay dessus : "
            "sarapay config set-api-base {url}",
            "en": "Stripe sandbox listening on {url} (Ctrl-C to stop). Point sarapay at it: sarapay config set-api-base {url}",
        },
        "sandbox.port_busy": {
            "fr": "Le port {port} est déjà pris : choisissez-en un autre avec --port.",
            "en": "Port {port} is already in use: pick another with --port.",
        },
        "sandbox.paid": {
            "fr": "Carte acceptée : l'empreinte est posée. {consultation_id} : {state}.",
            "en": "Card accepted: the hold is in place. {consultation_id}: {state}.",
        },
        "sandbox.declined": {
            "fr": "Carte refusée ({decline_code}) : la page de paiement reste ouverte. {consultation_id} : {state}.",
            "en": "Card declined ({decline_code}): the payment page stays open. {consultation_id}: {state}.",
        },
        "sandbox.consented": {
            "fr": "Le praticien a accepté (bac à sable) : compte {account_id}. Terminez la liaison avec la commande "
            "affichée (le code expire au bout de 5 minutes).",
            "en": "The practitioner approved (sandbox): account {account_id}. Finish the link with the command "
            "printed (the code expires after 5 minutes).",
        },
        "sandbox.advanced": {
            "fr": "Horloge du bac à sable avancée : il est maintenant {when} côté Stripe.",
            "en": "Sandbox clock moved: it is now {when} on Stripe's side.",
        },
    }
)

sandbox_app = typer.Typer(
    help="Le bac à sable local compatible Stripe : le servir, jouer le patient ou le praticien, avancer l'horloge.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox", rich_help_panel=PANEL_SANDBOX)


@sandbox_app.command(
    "serve",
    epilog="Exemple : sarapay sandbox serve --port 12111 --state ~/sandbox.json",
)
def serve(
    port: int = typer.Option(12111, "--port", help="Port d'écoute sur 127.0.0.1 (0 : un port libre)."),
    state: Optional[str] = typer.Option(None, "--state", help="Fichier où garder l'état entre deux lancements."),
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, help="Délai ajouté à chaque requête (ms)."),
) -> None:
    """Sert le bac à sable Stripe local jusqu'à Ctrl-C."""
    from sarapay.render import console
    from sarapay.errors import BadInput
    from sarapay.sandbox import SandboxServer

    try:
        server = SandboxServer(port=port, latency_ms=latency_ms, state_file=state)
    except OSError:
        raise BadInput("sandbox.port_busy", port=port) from None
    console.data_line(f"SANDBOX_URL={server.url}")
    console.message(i18n.t("sandbox.serving", url=server.url))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


@sandbox_app.command(
    "pay",
    epilog="Exemples : sarapay sandbox pay TC-8F3K2Q · sarapay sandbox pay TC-8F3K2Q --card '4000 0000 0000 0002'",
)
def pay(
    ctx: typer.Context,
    consultation: str = typer.Argument(..., help="Identifiant de la consultation (TC-…).", autocompletion=consultation_ids),
    card: str = typer.Option(
        "4242 4242 4242 4242",
        "--card",
        help="Carte de test : 4242… acceptée, 4000 0000 0000 0002 refusée, 4000 0000 0000 9995 fonds insuffisants, "
        "4000 0000 0000 0259 acceptée puis contestée (fraude) une fois capturée.",
    ),
) -> None:
    """Joue le patient : remplit la page de paiement de la consultation avec une carte de test."""
    from sarapay import statuses
    from sarapay.render import console
    from sarapay.services import sandbox_play
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        result = sandbox_play.pay(services, consultation, card)
    row = result["consultation"]
    state = statuses.label(row.state)
    if result["outcome"] == "authorized":
        console.message(i18n.t("sandbox.paid", consultation_id=row.id, state=state))
    else:
        console.warn(i18n.t("sandbox.declined", consultation_id=row.id, state=state, decline_code=result["decline_code"]))


@sandbox_app.command(
    "consent",
    epilog="Exemple : sarapay sandbox consent 'http://127.0.0.1:12111/oauth/authorize?…' "
    "(l'adresse qu'affiche sarapay link RPPS --email E-MAIL)",
)
def consent(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="L'adresse d'autorisation affichée par « sarapay link RPPS --email … »."),
) -> None:
    """Joue le praticien : accepte la page d'autorisation OAuth et affiche la commande « sarapay link RPPS --code … --state … » qui termine la liaison."""
    from sarapay.render import console
    from sarapay.services import sandbox_play
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        result = sandbox_play.consent(services, url)
    console.data_line(f"sarapay link {result['rpps'] or 'RPPS'} --code {result['code']} --state {result['state']}")
    console.message(i18n.t("sandbox.consented", account_id=result["account_id"]))


@sandbox_app.command("advance", epilog="Exemples : sarapay sandbox advance 8d · sarapay sandbox advance 1h30m")
def advance(
    ctx: typer.Context,
    duration: str = typer.Argument(..., help="Durée : 30m, 48h, 8d (ou 8j), 1h30m."),
) -> None:
    """Avance l'horloge du bac à sable (expiration des empreintes et des liens, versements)."""
    from sarapay import timefmt
    from sarapay.render import console
    from sarapay.services import sandbox_play
    from sarapay.services.context import Context

    seconds = timefmt.parse_duration(duration)
    with Context(live=global_options(ctx).live) as services:
        now = sandbox_play.advance(services, seconds)
    console.message(i18n.t("sandbox.advanced", when=timefmt.format_when(now)))
