"""`sarapay webhooks register|serve`: Stripe's events reaching the ledger by themselves (services/webhooks.py)."""

from __future__ import annotations

from typing import Any

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_RECONCILE, app, global_options

i18n.register(
    {
        "webhooks.registered": {
            "fr": "Point de réception {id} créé sur Stripe pour {url} ({count} types d'événements, comptes connectés). "
            "Secret de signature {masked} rangé {where}. Lancez le récepteur : sarapay webhooks serve --port N",
            "en": "Endpoint {id} created on Stripe for {url} ({count} event types, connected accounts). "
            "Signing secret {masked} kept {where}. Start the receiver: sarapay webhooks serve --port N",
        },
        "webhooks.where_keyring": {"fr": "dans le trousseau du système", "en": "in the OS keyring"},
        "webhooks.where_file": {"fr": "dans le fichier {path} (0600)", "en": "in the file {path} (0600)"},
        "webhooks.serving": {
            "fr": "Récepteur des événements Stripe à l'écoute sur {url} (santé : {health}). SIGTERM ou Ctrl-C pour "
            "arrêter ; l'événement en cours est terminé d'abord.",
            "en": "Stripe event receiver listening on {url} (health: {health}). SIGTERM or Ctrl-C to stop; the event "
            "in hand is finished first.",
        },
        "webhooks.stopped": {"fr": "Récepteur arrêté.", "en": "Receiver stopped."},
        "webhooks.port_busy": {
            "fr": "Impossible d'écouter sur {host}:{port} (déjà pris ou interdit) : choisissez un autre --port.",
            "en": "Cannot listen on {host}:{port} (in use or not allowed): pick another --port.",
        },
    }
)

webhooks_app = typer.Typer(
    help="Les événements Stripe appliqués au registre dès qu'ils arrivent : créer le point de réception, le servir.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks", rich_help_panel=PANEL_RECONCILE)


@webhooks_app.command(
    "register",
    epilog="Exemple : sarapay webhooks register https://paiements.example.fr/webhooks/stripe --file "
    "(un serveur sans trousseau : le secret dans un fichier 0600)",
)
def register(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="Adresse https publique du récepteur (derrière le proxy TLS), chemin /webhooks/stripe."),
    to_file: bool = typer.Option(
        False, "--file", help="Ranger le secret dans un fichier 0600 (SARAPAY_WEBHOOK_SECRET_FILE ou le dossier de sarapay) plutôt que dans le trousseau.",
    ),
) -> None:
    """Crée sur Stripe le point de réception Connect des événements dont sarapay a besoin, et range son secret de
    signature comme la clé d'API (jamais affiché)."""
    from sarapay.render import console
    from sarapay.services import webhooks as service
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        result = service.register(services, url, to_file=to_file)
    endpoint = result["endpoint"]
    where = (i18n.t("webhooks.where_file", path=result["secret_file"]) if result["secret_file"]
             else i18n.t("webhooks.where_keyring"))
    console.message(i18n.t("webhooks.registered", id=endpoint.get("id"), url=endpoint.get("url"),
                          count=len(endpoint.get("enabled_events") or []), masked=result["secret_masked"], where=where))


@webhooks_app.command(
    "serve",
    epilog="Exemple : sarapay webhooks serve --port 8765 (derrière nginx ou Caddy qui termine TLS ; unité systemd "
    "dans le README). Journal : une ligne JSON par événement sur la sortie d'erreur.",
)
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Adresse d'écoute (127.0.0.1 : seul le proxy local y accède)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port d'écoute (0 : un port libre)."),
) -> None:
    """Reçoit les événements Stripe (POST /webhooks/stripe), vérifie leur signature et les applique au registre une
    seule fois ; GET /healthz pour la supervision. Tourne jusqu'à SIGTERM."""
    import signal
    import sys
    import threading

    from sarapay import credentials
    from sarapay.render import console
    from sarapay.errors import BadInput
    from sarapay.services import webhooks as service
    from sarapay.services.context import Context
    from sarapay.timefmt import iso_utc

    live = global_options(ctx).live
    secret = credentials.resolve_webhook_secret()
    first = Context(live=live)
    first.ledger  # noqa: B018 - fail now (exit 4) on a missing key or an unusable ledger, not at the first event
    base_gateway = first.gateway

    def contexts() -> Context:
        return Context(live=live, gateway=base_gateway.clone())

    receiver = service.Receiver(secret, contexts)
    first.close()

    def log(fields: dict[str, Any]) -> None:
        import json
        import time

        sys.stderr.write(json.dumps({"at": iso_utc(int(time.time())), **fields}, ensure_ascii=False) + "\n")
        sys.stderr.flush()

    try:
        server = service.make_server(receiver, host, port, log)
    except OSError:
        raise BadInput("webhooks.port_busy", host=host, port=port) from None
    url = f"http://{host}:{server.server_address[1]}"
    console.data_line(f"WEBHOOKS_URL={url}{service.EVENT_PATH}")
    console.message(i18n.t("webhooks.serving", url=url + service.EVENT_PATH, health=url + service.HEALTH_PATH))

    def stop(signum: int, frame: object) -> None:
        log({"outcome": "stopping", "signal": signal.Signals(signum).name})
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() waits for serve_forever

    signal.signal(signal.SIGTERM, stop)
    try:
        service.serve(server)
    except KeyboardInterrupt:
        pass
    log({"outcome": "stopped", "events": receiver.counts})
    console.message(i18n.t("webhooks.stopped"))
