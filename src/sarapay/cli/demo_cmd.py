"""`sarapay demo`: the whole story, told with real sarapay commands, on the embedded sandbox.

It runs in a throwaway home with an in-process sandbox and a test key made up for the occasion, so it
needs no Stripe account, touches none of the user's files, and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
from datetime import datetime, timedelta
from typing import Any, Iterator

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SANDBOX, app

i18n.register(
    {
        "demo.intro": {
            "fr": "Démonstration sur le bac à sable local ({url}) : aucune clé, aucun compte Stripe, rien n'est conservé.",
            "en": "Demo on the local sandbox ({url}): no key, no Stripe account, nothing is kept.",
        },
        "demo.step_failed": {
            "fr": "La démonstration s'arrête : « {command} » a échoué (code {code}).",
            "en": "The demo stops: '{command}' failed (exit {code}).",
        },
        "demo.done": {
            "fr": "Fin de la démonstration : tout a été fait avec les vraies commandes, sur le bac à sable. Rien n'a été conservé.",
            "en": "End of the demo: everything was done with the real commands, on the sandbox. Nothing was kept.",
        },
        "demo.narrate.link": {
            "fr": "1. Le support lie la Dre Martin (RPPS {rpps}) à Stripe par OAuth : sarapay affiche le lien d'autorisation.",
            "en": "1. Support links Dr Martin (RPPS {rpps}) to Stripe through OAuth: sarapay prints the authorisation link.",
        },
        "demo.narrate.consent": {
            "fr": "   La praticienne accepte sur la page Stripe, qui la renvoie avec un code et le state.",
            "en": "   The practitioner consents on Stripe's page, which sends her back with a code and the state.",
        },
        "demo.narrate.prefs": {
            "fr": "2. Son montant maximum par téléconsultation : 25 €.",
            "en": "2. Her maximum amount per teleconsultation: €25.",
        },
        "demo.narrate.plan": {
            "fr": "3. Une téléconsultation avec paiement en ligne : le lien de paiement est à envoyer au patient.",
            "en": "3. A teleconsultation with online payment: the payment link goes to the patient.",
        },
        "demo.narrate.pay": {
            "fr": "4. Le patient laisse son empreinte bancaire avec une carte de test : « Non capturé ».",
            "en": "4. The patient leaves a card authorisation with a test card: 'Uncaptured'.",
        },
        "demo.narrate.capture": {
            "fr": "5. Après l'acte, la praticienne encaisse 20 € sur les 25 € autorisés : « Réussi », avec les frais Stripe et le net.",
            "en": "5. After the act, the practitioner captures €20 of the €25 authorised: 'Succeeded', with Stripe's fee and the net.",
        },
        "demo.narrate.expiring": {
            "fr": "6. Une autre empreinte reste sans capture. À 10 h de son échéance, le rapprochement (la tâche cron) la signale.",
            "en": "6. Another hold is left uncaptured. 10 hours before its deadline, reconcile (the cron job) flags it.",
        },
        "demo.narrate.expired": {
            "fr": "   Personne ne la capture : Stripe la libère, elle est « Expiré ».",
            "en": "   Nobody captures it: Stripe releases it, it is 'Expired'.",
        },
        "demo.narrate.dispute": {
            "fr": "5 bis. Un autre patient paie, l'acte est encaissé, puis sa banque conteste le paiement (carte de test "
            "de litige) : « Contesté », le montant et les frais de litige sont retirés, avec l'échéance pour répondre.",
            "en": "5b. Another patient pays, the act is captured, then their bank disputes the payment (a dispute test "
            "card): 'Disputed', the amount and the dispute fee are withdrawn, with the deadline to answer.",
        },
        "demo.narrate.payout_contents": {
            "fr": "7 bis. Ce que contient ce versement : chaque consultation (encaissé, frais, net), le litige retiré, "
            "et le total vérifié contre le montant versé.",
            "en": "7b. What this payout contains: each consultation (captured, fee, net), the dispute withdrawn, and "
            "the total checked against the amount paid out.",
        },
        "demo.narrate.payout": {
            "fr": "7. Les jours passent : le solde devient disponible et Stripe verse l'argent sur le compte bancaire.",
            "en": "7. Days go by: the balance becomes available and Stripe pays the money out to the bank account.",
        },
        "demo.narrate.incomplete": {
            "fr": "8. Un patient ouvre la page de paiement, sa carte est refusée, il s'en va : « Incomplet ».",
            "en": "8. A patient opens the payment page, the card is declined, they leave: 'Incomplete'.",
        },
        "demo.narrate.unpaid": {
            "fr": "9. Une téléconsultation sans paiement en ligne (tiers payant intégral).",
            "en": "9. A teleconsultation without online payment (full third-party payment).",
        },
        "demo.narrate.table": {
            "fr": "10. Le tableau des paiements de la praticienne.",
            "en": "10. The practitioner's payments table.",
        },
    }
)

DEMO_KEY = "sk_test_sarapayDemo0000000000"
DEMO_CLIENT_ID = "ca_sarapayDemo000000"
DEMO_EMAIL = "dre.martin@example.fr"


class DemoStepFailed(Exception):
    def __init__(self, command: str, code: int) -> None:
        super().__init__(command)
        self.command = command
        self.code = code


class Storyteller:
    """Runs real sarapay commands in process, echoing each one like a terminal session."""

    def __init__(self) -> None:
        from sarapay.render import console

        self.console = console

    def say(self, key: str, **params: Any) -> None:
        self.console.err().print()
        self.console.err().print(i18n.t(key, **params), style="bold", markup=False, soft_wrap=True)

    def run(self, *args: str, expect: tuple[int, ...] = (0,)) -> str:
        """Runs `sarapay ARGS` and returns its stdout (also shown). A step that exits with a code other than
        `expect` stops the demo."""
        import sys

        from typer.main import get_command

        command_line = "sarapay " + " ".join(shlex.quote(a) for a in args)
        self.console.err().print(f"$ {command_line}", style="cyan", markup=False, soft_wrap=True)
        sys.stderr.flush()
        buffer = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(buffer):
            try:
                # The demo's language goes to every step (each run of the root callback sets it anew).
                words = ["--lang", i18n.get_lang(), *args]
                # Not standalone, click returns a command's exit code (typer.Exit: every sarapay error) rather than raising.
                result = get_command(app).main(words, prog_name="sarapay", standalone_mode=False)
                code = result if isinstance(result, int) else 0
            except typer.Exit as exc:
                code = exc.exit_code
            except SystemExit as exc:  # click's own exits
                code = int(exc.code or 0)
        output = buffer.getvalue()
        if output:
            sys.stdout.write(output)
            sys.stdout.flush()
        if code not in expect:
            raise DemoStepFailed(command_line, code)
        return output


@contextlib.contextmanager
def _demo_environment(url: str, home: str) -> Iterator[None]:
    """Points sarapay at the in-process sandbox for the demo's duration, then restores everything."""
    values = {
        "SARAPAY_HOME": home,
        "STRIPE_API_KEY": DEMO_KEY,
        "SARAPAY_CLIENT_ID": DEMO_CLIENT_ID,
        "SARAPAY_API_BASE": url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    saved = {name: os.environ.get(name) for name in [*values, "SARAPAY_KEY_FILE"]}
    os.environ.pop("SARAPAY_KEY_FILE", None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def tell_story(story: Storyteller, sandbox_url: str) -> None:
    from sarapay import rpps
    from sarapay.errors import EXIT_NEEDS_ACTION
    from sarapay.sandbox_control import SandboxControl

    control = SandboxControl(sandbox_url)
    practitioner = rpps.make_test_rpps(4242)
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%d/%m/%Y")

    story.say("demo.narrate.link", rpps=practitioner)
    url = story.run("link", practitioner, "--email", DEMO_EMAIL, "--name", "Dre Martin").strip().splitlines()[-1]
    story.say("demo.narrate.consent")
    consent = control.oauth_authorize(url, decision="approve")
    story.run("link", practitioner, "--code", consent["code"], "--state", consent["state"])

    story.say("demo.narrate.prefs")
    story.run("prefs", "set-max", practitioner, "25")

    story.say("demo.narrate.plan")
    paid = _planned(story.run("plan", practitioner, "--at", f"{tomorrow} 10:30", "--paid", "--patient-ref", "P-0001", "--json"))

    story.say("demo.narrate.pay")
    story.run("sandbox", "pay", paid)
    story.run("status", paid)

    story.say("demo.narrate.capture")
    story.run("capture", paid, "20", "--yes")

    story.say("demo.narrate.dispute")
    contested = _planned(story.run("plan", practitioner, "--at", f"{tomorrow} 10:45", "--paid", "--patient-ref", "P-0005", "--json"))
    story.run("sandbox", "pay", contested, "--card", "4000 0000 0000 0259")
    story.run("capture", contested, "--yes")
    story.run("disputes", "--practitioner", practitioner, "--refresh")

    story.say("demo.narrate.expiring")
    forgotten = _planned(story.run("plan", practitioner, "--at", f"{tomorrow} 11:00", "--paid", "--patient-ref", "P-0002", "--json"))
    story.run("sandbox", "pay", forgotten)
    story.run("sandbox", "advance", "6d14h")  # a hold lives 7 days: 10 h left, on Stripe's clock
    story.run("reconcile", expect=(EXIT_NEEDS_ACTION,))

    story.say("demo.narrate.expired")
    story.run("sandbox", "advance", "1d10h")
    story.run("status", forgotten, "--refresh")

    story.say("demo.narrate.payout")
    story.run("sandbox", "advance", "3d")
    overview = json.loads(story.run("payouts", practitioner, "--json"))
    story.run("payouts", practitioner)
    paid_out = [p["id"] for p in overview.get("payouts", []) if p.get("status") == "paid"]
    if paid_out:
        story.say("demo.narrate.payout_contents")
        story.run("payouts", practitioner, "--payout", paid_out[0])

    story.say("demo.narrate.incomplete")
    left = _planned(story.run("plan", practitioner, "--at", f"{tomorrow} 11:30", "--paid", "--patient-ref", "P-0003", "--json"))
    story.run("sandbox", "pay", left, "--card", "4000 0000 0000 0002")

    story.say("demo.narrate.unpaid")
    story.run("plan", practitioner, "--at", f"{tomorrow} 12:00", "--patient-ref", "P-0004")

    story.say("demo.narrate.table")
    story.run("status", "--practitioner", practitioner, "--refresh")


def _planned(json_output: str) -> str:
    planned: str = json.loads(json_output)["id"]  # `plan --json`: the consultation's id
    return planned


@app.command("demo", rich_help_panel=PANEL_SANDBOX, epilog="Exemple : sarapay demo")
def demo() -> None:
    """Raconte toute l'histoire avec les vraies commandes, sur le bac à sable embarqué, sans compte Stripe.

    Liaison OAuth d'une praticienne, maximum de 25 €, empreinte, capture de 20 € (frais et net), paiement
    contesté par la banque du patient, empreinte bientôt expirée signalée par le rapprochement, puis expirée,
    versement et son contenu, paiement incomplet, consultation sans paiement, tableau final.
    Rien n'est conservé : dossier temporaire, bac à sable en mémoire.
    """
    import tempfile

    from sarapay.render import console
    from sarapay.errors import SarapayError
    from sarapay.sandbox import SandboxServer

    story = Storyteller()
    with tempfile.TemporaryDirectory(prefix="sarapay-demo-") as home, SandboxServer(port=0) as sandbox:
        console.message(i18n.t("demo.intro", url=sandbox.url))
        with _demo_environment(sandbox.url, home):
            try:
                tell_story(story, sandbox.url)
            except DemoStepFailed as exc:
                console.message(i18n.t("demo.step_failed", command=exc.command, code=exc.code), style="red")
                raise typer.Exit(exc.code) from None
            except SarapayError:
                raise
    console.err().print()
    console.message(i18n.t("demo.done"), style="green")
