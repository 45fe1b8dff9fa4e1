"""`sarapay demo` runs the whole story on its own sandbox, in a subprocess as a newcomer would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .hermetic import leftovers


def _demo_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SARAPAY_", "XDG_"))}
    env["SARAPAY_HOME"] = str(home)  # where a careless demo would write: it must stay empty
    env["TMPDIR"] = str(home.parent / "tmp")
    env["HOME"] = str(home.parent / "user-home")  # a newcomer's home, fresh: it must stay as it was
    return env


def test_demo_tells_the_whole_story_and_leaves_nothing_behind(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "tmp").mkdir()
    user_home = tmp_path / "user-home"  # made empty by the hermetic_home fixture
    assert list(user_home.iterdir()) == []
    result = subprocess.run(
        [sys.executable, "-m", "sarapay", "demo"],
        env=_demo_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # The final payments table carries each state of the story, with the portal's labels.
    final_table = result.stdout.split("Totaux par état")[0].rsplit("Consultation ┃", 1)[1]
    for label in ("Réussi", "Contesté", "Expiré", "Incomplet", "Sans paiement en ligne"):
        assert label in final_table
    # 20 € captured of a 25 € hold: Stripe's fee is 1,5 % × 20 € + 0,25 € = 0,55 €, net 19,45 €.
    # French money: a no-break space (U+00A0) before the euro sign.
    assert "0,55\u00a0€" in result.stdout and "19,45\u00a0€" in result.stdout
    assert "Non capturé" in result.stderr  # the patient's hold, as `sandbox pay` reports it
    assert "Payé" in result.stdout  # the payout arrived once the clock moved
    # The sandbox clock moved to 10 h before the forgotten hold's deadline: reconcile flags it (Stripe's time).
    assert "$ sarapay reconcile" in result.stderr and "Empreinte à capturer · TC-" in result.stdout
    # The disputed payment: 25 € and Stripe's dispute fee withdrawn; the payout's content adds up to the payout.
    assert "$ sarapay disputes" in result.stderr and "Litige : retrait" in result.stdout
    assert "Écart                 0,00\u00a0€" in result.stdout
    # Nothing left behind: not in sarapay's home, not in the temporary folder, and nothing in the user's
    # home outside sarapay's own folders (the stripe SDK's telemetry would write ~/.config/stripe/telemetry_id).
    assert not home.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert leftovers(user_home) == []


def test_demo_speaks_english_when_asked(tmp_path):
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "sarapay", "--lang", "en", "demo"],
        env=_demo_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Succeeded" in result.stdout and "Réussi" not in result.stdout
    assert "End of the demo" in result.stderr


def test_a_step_that_fails_stops_the_demo_with_its_exit_code(capsys):
    """Every sarapay error ends in typer.Exit, which click returns (not raises) outside standalone mode."""
    import pytest

    from sarapay.cli.demo_cmd import DemoStepFailed, Storyteller

    with pytest.raises(DemoStepFailed) as failed:
        Storyteller().run("status", "TC-AAAAA2")  # not in the (empty) ledger: exit 2
    assert failed.value.code == 2 and failed.value.command == "sarapay status TC-AAAAA2"
    with pytest.raises(DemoStepFailed):
        Storyteller().run("fees", "25", expect=(8,))  # exit 0, but 8 was expected

