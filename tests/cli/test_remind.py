"""`sarapay remind` against the sandbox (Stripe) and a real SMTP server on loopback (aiosmtpd): what the
practitioners receive, once per hold and deadline, and what a failing or misconfigured mail server leaves.

Holds last 7 days on the sandbox; the tests move Stripe's clock 6 days on (`sandbox.advance`), the
machine's clock staying where it is: remind must judge deadlines by Stripe's time.
"""

from __future__ import annotations

import json

import pytest

from sarapay import timefmt

from .payments_helpers import DAY, authorised, consultation, ledger, link_practitioner
from .smtp_helpers import SmtpServer

PATIENT_REF = "PAT-7731-DUPONT"
PATIENT_EMAIL = "camille.patiente@example.org"
SENDER = "rappels@portail.example.fr"
NBSP = "\u00a0"

# aiosmtpd warns when AUTH is allowed without TLS: what these tests do on purpose, on loopback only.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def configure(run, server: SmtpServer, *extra: str) -> None:
    result = run("config", "set-smtp", server.address, "--no-starttls", "--from", SENDER, *extra)
    assert result.exit_code == 0, result.stderr


def practitioner(sandbox, n: int, *, email: str | None, name: str | None = "Dre Martin", lang: str | None = None) -> str:
    rpps = link_practitioner(sandbox, n, name=name)["rpps"]
    with ledger() as book:
        if email:
            book.upsert_practitioner(rpps, email=email)
        if lang:
            book.set_practitioner_lang(rpps, lang)
    return rpps


def hold(run, sandbox, rpps: str) -> str:
    """A consultation with a card hold, planned with a patient reference and email (which must never be mailed)."""
    return authorised(run, sandbox, rpps, "--patient-ref", PATIENT_REF, "--email", PATIENT_EMAIL)


def remind_json(run, *args: str) -> tuple[int, dict]:
    result = run("remind", "--json", *args)
    assert result.stdout, (result.exit_code, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def sent_rows() -> list[dict]:
    with ledger() as book:
        return book.list_reminders_sent()


def audit(command: str = "remind") -> list[dict]:
    with ledger() as book:
        return book.list_audit(100, command=command)


def assert_no_patient_data(server: SmtpServer) -> None:
    for raw in server.raw:
        text = raw.decode("utf-8", "replace")
        for secret in (PATIENT_REF, PATIENT_EMAIL, "camille", "DUPONT"):
            assert secret.lower() not in text.lower()


# --------------------------------------------------------------------------- sending, once


def test_one_email_per_practitioner_in_their_language_then_nothing_twice(run, sandbox, smtp):
    configure(run, smtp)
    fr = practitioner(sandbox, 1, email="dr.martin@example.fr", name="Dre Martin")
    en = practitioner(sandbox, 2, email="dr.smith@example.com", name="Dr Smith", lang="en")
    fr_holds = [hold(run, sandbox, fr), hold(run, sandbox, fr)]
    en_hold = hold(run, sandbox, en)

    # Fresh holds (7 days left): nothing due within 48 h.
    code, report = remind_json(run)
    assert code == 0 and report["practitioners"] == [] and smtp.messages == []
    assert audit() == []  # a pass with nothing to send changes nothing: no audit row

    sandbox.advance(6 * DAY)  # Stripe's clock only: by the machine's, the deadlines are still 7 days away
    code, report = remind_json(run)
    assert code == 0, report
    assert report["counts"]["sent"] == 2 and report["complete"] and not report["needs_action"]
    assert len(smtp.messages) == 2

    [french] = smtp.to("dr.martin@example.fr")
    deadline = consultation(fr_holds[0]).capture_before
    assert french["Subject"] == f"sarapay : 2 empreintes à capturer avant le {timefmt.format_when(deadline, 'fr')}"
    assert french["From"] == SENDER and french["Message-ID"] and french["Date"]
    body = french.get_content()
    assert body.startswith("Bonjour Dre Martin,")
    for cid in fr_holds:
        assert cid in body and f"sarapay capture {cid}" in body
    assert f"25,00{NBSP}€" in body and "01/12/2099 10:30" in body  # amount held, consultation time (Paris)
    assert timefmt.format_when(deadline, "fr") in body
    assert en_hold not in body  # each practitioner sees their own holds only

    [english] = smtp.to("dr.smith@example.com")
    assert english["Subject"].startswith("sarapay: 1 card hold to capture before 2")
    text = english.get_content()
    assert text.startswith("Hello Dr Smith,") and en_hold in text and "€25.00" in text and "2099-12-01 10:30" in text

    assert_no_patient_data(smtp)
    rows = sent_rows()
    assert sorted(r["consultation_id"] for r in rows) == sorted([*fr_holds, en_hold])
    assert {r["kind"] for r in rows} == {"hold"} and all(r["message_id"] for r in rows)
    assert any("rappel envoyé" in (line.note or "") for line in ledger().history(en_hold))
    [entry] = audit()
    assert entry.outcome == "ok" and "sent=2" in entry.detail

    # The hourly cron again: everything was reminded, nothing is sent twice.
    code, again = remind_json(run)
    assert code == 0 and again["counts"]["already_sent"] == 2 and again["counts"]["sent"] == 0
    assert len(smtp.messages) == 2 and len(sent_rows()) == 3
    assert len(audit()) == 1


def test_a_hold_captured_in_the_dashboard_is_not_reminded(run, sandbox, smtp, stripe_client):
    """remind refreshes from Stripe first (reconcile's bulk read): what was captured elsewhere is not mailed."""
    configure(run, smtp)
    linked = link_practitioner(sandbox, 1)
    with ledger() as book:
        book.upsert_practitioner(linked["rpps"], email="dr.martin@example.fr")
    captured, open_one = hold(run, sandbox, linked["rpps"]), hold(run, sandbox, linked["rpps"])
    client = stripe_client()
    session = client.v1.checkout.sessions.retrieve(
        consultation(captured).checkout_session_id, options={"stripe_account": linked["account"]}
    )
    client.v1.payment_intents.capture(session.payment_intent, options={"stripe_account": linked["account"]})
    sandbox.advance(6 * DAY)

    code, report = remind_json(run)
    assert code == 0 and report["refresh"] == "done"
    [message] = smtp.messages
    assert open_one in message.get_content() and captured not in message.get_content()
    assert consultation(captured).state == "succeeded"


def test_within_widens_the_window(run, sandbox, smtp):
    configure(run, smtp)
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    cid = hold(run, sandbox, rpps)
    sandbox.advance(2 * DAY)  # 5 days left
    assert remind_json(run)[1]["practitioners"] == []
    code, report = remind_json(run, "--within", "6j")
    assert code == 0 and [r["consultation_id"] for r in report["practitioners"][0]["reminders"]] == [cid]
    assert len(smtp.messages) == 1


def test_dry_run_shows_the_email_and_records_nothing(run, sandbox, smtp):
    configure(run, smtp)
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    cid = hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)

    result = run("remind", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Objet : sarapay : 1 empreinte à capturer avant le" in result.stdout
    assert "À : d***@example.fr" in result.stdout and f"De : {SENDER}" in result.stdout
    assert f"sarapay capture {cid}" in result.stdout
    assert PATIENT_REF not in result.stdout and PATIENT_EMAIL not in result.stdout
    assert "rien n'est envoyé" in result.stderr
    assert smtp.messages == [] and sent_rows() == []
    assert [e.outcome for e in audit()] == ["dry_run"]

    code, report = remind_json(run, "--dry-run")
    [entry] = report["practitioners"]
    assert entry["outcome"] == "would_send" and cid in entry["body"] and sent_rows() == []

    assert run("remind").exit_code == 0
    assert len(smtp.messages) == 1 and len(sent_rows()) == 1


def test_dry_run_needs_no_mail_settings(run, sandbox):
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)
    result = run("remind", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "empreinte à capturer" in result.stdout or "empreintes à capturer" in result.stdout


def test_a_practitioner_without_email_is_reported_the_others_are_sent(run, sandbox, smtp):
    configure(run, smtp)
    without = practitioner(sandbox, 1, email=None)
    with_email = practitioner(sandbox, 2, email="dr.smith@example.com")
    waiting, sent = hold(run, sandbox, without), hold(run, sandbox, with_email)
    sandbox.advance(6 * DAY)

    result = run("remind")
    assert result.exit_code == 8, result.stderr  # a person must add the address
    assert f"sarapay link {without} --account acct_" in result.stderr
    assert len(smtp.messages) == 1 and sent in smtp.messages[0].get_content()
    assert [r["consultation_id"] for r in sent_rows()] == [sent]

    code, report = remind_json(run, "--practitioner", with_email)
    assert code == 0 and report["counts"] == {**report["counts"], "already_sent": 1, "no_email": 0}
    assert waiting not in json.dumps(report)


# --------------------------------------------------------------------------- a server failing mid-way


def two_practitioners_with_holds(run, sandbox) -> tuple[str, str]:
    first = practitioner(sandbox, 1, email="dr.martin@example.fr")
    second = practitioner(sandbox, 2, email="dr.smith@example.com")
    return hold(run, sandbox, first), hold(run, sandbox, second)


def test_second_message_refused_451_is_retried_next_run_the_first_is_not(run, sandbox):
    with SmtpServer(answers={2: "451 4.3.0 Temporary local problem, try later"}) as server:
        configure(run, server)
        first, second = two_practitioners_with_holds(run, sandbox)
        sandbox.advance(6 * DAY)

        result = run("remind")
        assert result.exit_code == 6, result.stderr  # not everything went: the next run retries
        assert "451" in result.stderr and "prochain passage" in result.stderr
        assert len(server.messages) == 1
        [row] = sent_rows()
        assert row["consultation_id"] == first  # sent, recorded
        assert [e.outcome for e in audit()] == ["error"]

        code, report = remind_json(run)
        assert code == 0, report
        assert len(server.messages) == 2 and second in server.messages[1].get_content()
        assert first not in server.messages[1].get_content()
        assert sorted(r["consultation_id"] for r in sent_rows()) == sorted([first, second])


def test_connection_closed_mid_way_leaves_the_rest_for_the_next_run(run, sandbox):
    with SmtpServer(answers={1: "421 4.3.2 Service shutting down"}) as server:
        configure(run, server)
        two_practitioners_with_holds(run, sandbox)
        sandbox.advance(6 * DAY)

        code, report = remind_json(run)
        assert code == 6 and report["stopped"]["code"] == "mail.dropped"
        assert report["counts"]["not_sent"] == 2 and sent_rows() == [] and server.messages == []

        assert remind_json(run)[0] == 0
        assert len(server.messages) == 2 and len(sent_rows()) == 2


def test_a_permanent_refusal_needs_a_person(run, sandbox):
    with SmtpServer(answers={1: "550 5.1.1 Mailbox unavailable"}) as server:
        configure(run, server)
        rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
        hold(run, sandbox, rpps)
        sandbox.advance(6 * DAY)
        code, report = remind_json(run)
        assert code == 8 and report["practitioners"][0]["error"]["code"] == 550
        assert sent_rows() == []


# --------------------------------------------------------------------------- bad settings, unreachable server


def test_bad_password_exit_4_nothing_recorded(run, sandbox, monkeypatch):
    with SmtpServer(login=("rappels", "le-bon-mot-de-passe")) as server:
        configure(run, server, "--user", "rappels")
        rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
        hold(run, sandbox, rpps)
        sandbox.advance(6 * DAY)

        monkeypatch.setenv("SARAPAY_SMTP_PASSWORD", "un-mauvais-mot-de-passe")
        result = run("remind")
        assert result.exit_code == 4, result.stderr
        assert "refuse l'identifiant rappels" in result.stderr
        assert "un-mauvais-mot-de-passe" not in result.stderr + result.stdout
        assert server.messages == [] and sent_rows() == []
        assert [e.outcome for e in audit()] == ["refused"]

        monkeypatch.setenv("SARAPAY_SMTP_PASSWORD", "le-bon-mot-de-passe")
        assert run("remind").exit_code == 0
        assert len(server.messages) == 1 and len(sent_rows()) == 1


def test_unreachable_server_exit_6_nothing_recorded(run, sandbox):
    with SmtpServer() as server:
        address = server.address
    result = run("config", "set-smtp", address, "--no-starttls", "--from", SENDER)  # nobody listens there now
    assert result.exit_code == 0
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)

    result = run("remind", "--json")
    assert result.exit_code == 6, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "mail_unavailable" and error["code"] == "mail.unreachable"
    assert sent_rows() == []


def test_incomplete_settings_exit_4_before_anything(run, sandbox, smtp):
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)
    seq = sandbox.requests()[-1]["seq"]

    result = run("remind")
    assert result.exit_code == 4 and "sarapay config set-smtp" in result.stderr
    assert sandbox.requests(seq) == []  # refused before asking Stripe anything

    configure(run, smtp, "--user", "rappels")  # a user, and no password anywhere (the keyring is unusable here)
    result = run("remind")
    assert result.exit_code == 4 and "SARAPAY_SMTP_PASSWORD" in result.stderr
    assert smtp.messages == [] and sent_rows() == []


def test_starttls_required_but_not_offered_exit_4(run, sandbox, smtp):
    assert run("config", "set-smtp", smtp.address, "--from", SENDER).exit_code == 0  # STARTTLS: the default
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)
    result = run("remind")
    assert result.exit_code == 4, result.stderr
    assert "ne propose pas STARTTLS" in result.stderr
    assert smtp.messages == [] and sent_rows() == []


def test_another_remind_running_stops_at_once(run, sandbox, smtp):
    import fcntl
    import os

    from sarapay import settings

    configure(run, smtp)
    folder = settings.ensure_private_dir(settings.data_dir())
    fd = os.open(folder / "remind.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run("remind")
        assert result.exit_code == 1 and "déjà en cours" in result.stderr
    finally:
        os.close(fd)


def test_no_refresh_reads_the_ledger_and_asks_stripe_nothing(run, sandbox, smtp):
    configure(run, smtp)
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)
    seq = sandbox.requests()[-1]["seq"]
    code, report = remind_json(run, "--no-refresh")
    # The ledger has not seen the patient's card yet (no reconcile ran): nothing to remind, nothing asked.
    assert code == 0 and report["refresh"] == "skipped" and report["practitioners"] == []
    assert sandbox.requests(seq) == []


# --------------------------------------------------------------------------- STARTTLS


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """A server that requires STARTTLS, with a certificate from a test CA the client is told to trust
    (SSL_CERT_FILE, read by OpenSSL's default verify paths: sarapay's own code is unchanged)."""
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with SmtpServer(login=("rappels", "le-bon-mot-de-passe"), tls_context=server_context, require_starttls=True) as server:
        yield server, ca_file


def test_starttls_then_login_then_sent(run, sandbox, tls_server, monkeypatch):
    server, ca_file = tls_server
    assert run("config", "set-smtp", server.address, "--user", "rappels", "--from", SENDER).exit_code == 0
    rpps = practitioner(sandbox, 1, email="dr.martin@example.fr")
    hold(run, sandbox, rpps)
    sandbox.advance(6 * DAY)
    monkeypatch.setenv("SARAPAY_SMTP_PASSWORD", "le-bon-mot-de-passe")

    untrusted = run("remind")  # the test CA is not trusted yet: the certificate does not verify
    assert untrusted.exit_code == 4 and "connexion chiffrée" in untrusted.stderr
    assert server.messages == [] and sent_rows() == []

    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    result = run("remind")
    assert result.exit_code == 0, result.stderr
    assert len(server.messages) == 1 and len(sent_rows()) == 1


def test_an_open_dispute_is_reminded_with_its_answer_deadline_once(run, sandbox, smtp):
    """A payment disputed by the patient's bank (Stripe's dispute test card): the practitioner is told the
    answer deadline, once, and nothing about the patient."""
    from .payments_helpers import plan_paid, session_id_of

    rpps = practitioner(sandbox, 91, email="dr.litige@example.fr")
    planned = plan_paid(run, rpps, "--patient-ref", PATIENT_REF, "--email", PATIENT_EMAIL)["id"]
    assert sandbox.pay(session_id_of(planned), "4000000000000259")["outcome"] == "authorized"
    assert run("capture", planned, "--yes").exit_code == 0
    configure(run, smtp)
    code, report = remind_json(run, "--within", "8d")
    assert code == 0, report
    [message] = smtp.messages
    body = message.get_body(preferencelist=("plain",)).get_content()
    [dispute] = ledger().list_disputes(rpps=rpps)
    assert planned in body and timefmt.format_when(int(dispute["due_by"])) in body
    assert_no_patient_data(smtp)
    assert [(r["consultation_id"], r["kind"]) for r in sent_rows()] == [(planned, "dispute")]
    again, _ = remind_json(run, "--within", "8d")
    assert again == 0 and len(smtp.messages) == 1  # once per dispute and deadline
