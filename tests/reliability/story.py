"""The whole story, run as a cron job or a support person would run it: the real program in a subprocess,
every command in turn, happy paths and failing ones. Used by the secrets and metadata tests.

`run_story(sandbox, env)` returns the list of (args, CompletedProcess) it ran.
"""

from __future__ import annotations

import os
import re
import subprocess

from sarapay.rpps import make_test_rpps
from tests.reliability.conftest import sarapay_cmd

PATIENT_REF = "DOSSIER-PATIENT-4471"
PATIENT_EMAIL = "jeanne.patiente@example.fr"
PRACTITIONER_EMAIL = "dre.martin@example.fr"
AT = "01/12/2099 10:30"


class Story:
    def __init__(self, sandbox, env: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.env = {**os.environ, **env}
        self.env.pop("SARAPAY_DEBUG", None)
        self.ran: list[tuple[list[str], subprocess.CompletedProcess]] = []

    def __call__(self, *args: str, ok: bool | None = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Runs `sarapay ARGS` (umask 000: every file must be private by its own mode, not by luck)."""
        proc = subprocess.run(
            sarapay_cmd(*args), capture_output=True, text=True, env=self.env, input=stdin, timeout=120,
            preexec_fn=lambda: os.umask(0),
        )
        self.ran.append((list(args), proc))
        if ok is True:
            assert proc.returncode == 0, (args, proc.returncode, proc.stderr)
        elif ok is False:
            assert proc.returncode != 0, (args, proc.stdout)
        return proc

    def id_in(self, text: str) -> str:
        match = re.search(r"TC-[2-9A-HJKMNP-Z]{6}", text)
        assert match, text
        return match.group()


def run_story(sandbox, env: dict[str, str]) -> Story:
    s = Story(sandbox, env)
    rpps, other = make_test_rpps(61), make_test_rpps(62)

    # link through Connect OAuth, check, preferences
    url = s("link", rpps, "--email", PRACTITIONER_EMAIL, "--name", "Dre Martin").stdout.strip()
    consent = sandbox.oauth_authorize(url)
    s("link", rpps, "--code", consent["code"], "--state", consent["state"])
    s("link", rpps, "--code", consent["code"], "--state", consent["state"], ok=False)  # state used
    s("link", rpps, "--check")
    s("link", other, "--new", "--email", "dr.bernard@example.fr")
    s("prefs", "set-max", rpps, "30")
    s("prefs", "show")
    s("prefs", "show", rpps, "--json")

    # plan, pay, capture, refund, cancel, pay-link
    paid = s.id_in(s("plan", rpps, "--at", AT, "--paid", "--patient-ref", PATIENT_REF, "--email", PATIENT_EMAIL).stdout)
    s("plan", rpps, "--at", AT, "--patient-ref", PATIENT_REF)
    s("sandbox", "pay", paid)
    s("status", paid, "--refresh")
    s("capture", paid, "20", "--dry-run", "--json")
    s("capture", paid, "20", "--yes")
    s("capture", paid, "--yes", ok=False)  # twice
    s("refund", paid, "5", "--yes")
    held = s.id_in(s("plan", rpps, "--at", AT, "--paid", "--email", PATIENT_EMAIL, "--json").stdout)
    s("sandbox", "pay", held)
    s("cancel", held, "--yes")
    declined = s.id_in(s("plan", rpps, "--at", AT, "--paid", "--patient-ref", PATIENT_REF).stdout)
    s("sandbox", "pay", declined, "--card", "4000 0000 0000 0002", ok=None)
    s("pay-link", declined)
    s("cancel", declined, "--yes")

    # reading, reconciling, payouts, audit
    s("status")
    s("status", "--json")
    s("status", "--csv", "--show-email")
    s("status", paid, "--json")
    s("reconcile", "--json", ok=None)
    s("payouts", rpps)
    s("payouts", rpps, "--schedule", "weekly:monday", ok=False)  # an OAuth account: the practitioner decides
    s("sync", "--rebuild", ok=None)
    s("log")
    s("log", "--json")
    s("fees", "25")
    s("config", "show")
    s("config", "show", "--json")
    s("config", "path")

    # failing paths
    s("capture", "TC-ZZZZZZ", "--yes", ok=False)
    s("refund", paid, "abc", "--yes", ok=False)
    s("plan", rpps, "--at", "31/02/2026 10:00", ok=False)
    s("capture", held, "--yes", "--json", ok=False)
    s("--live", "status", paid, "--refresh", ok=False)  # a test key with --live

    # unlink
    s("unlink", rpps, "--dry-run")
    s("unlink", rpps, "--yes")
    return s
