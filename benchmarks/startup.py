"""Start-up time of sarapay beside a minimal Typer app with the same commands, measured in the same run.

    .venv/bin/python benchmarks/startup.py [--runs 40] [--output benchmarks/results/startup.txt]

For each case (`--help`, `status` on an empty ledger, `fees 25`) both programs run many times in fresh
subprocesses, interleaved round by round so that machine noise hits both alike; the table gives the median
and the minimum wall time and the ratio of medians. The goal is sarapay ≤ 1.3 × the baseline.

The baseline is generated in a temporary folder: the same groups and command names as sarapay (read from
sarapay's own command tree), each command a one-line function; its `status` takes one option and prints
one line, its `fees` takes one argument. The parameters matter: Typer 0.29 coerces every non-flag
parameter through a pydantic TypeAdapter, so any command with an argument or an option imports pydantic
(about 50 ms here); a baseline without parameters would measure that, not sarapay. It is launched the way the `sarapay` console script is (a small launcher
importing a module, so both read cached bytecode).

Every run is hermetic: its own SARAPAY_HOME (the empty ledger is created by a warm-up run, not timed), no
Stripe key from the environment, the failing keyring backend. The last column says which heavy modules
each sarapay command imported (python -X importtime): local commands must never import `stripe`.

A benchmark prints figures; nothing here asserts a time (tests check behaviour, not speed).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3
HEAVY = ("stripe", "keyring", "sqlite_utils", "babel", "requests")
CASES = (("--help",), ("status",), ("fees", "25"))


def command_tree() -> dict[str, list[str] | None]:
    """{top-level name: None for a command, [sub-command names] for a group}, from sarapay's own app."""
    code = textwrap.dedent(
        """
        import json, typer.main
        from sarapay.cli import app, load_commands
        load_commands()  # command modules are imported on demand; the tree needs them all
        root = typer.main.get_command(app)
        print(json.dumps({name: (sorted(cmd.commands) if hasattr(cmd, "commands") else None)
                          for name, cmd in root.commands.items()}))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=hermetic_env(None))
    import json

    return json.loads(done.stdout)


def baseline_source(tree: dict[str, list[str] | None]) -> str:
    lines = [
        "from typing import Optional",
        "import typer",
        "",
        'app = typer.Typer(no_args_is_help=True, help="Baseline: a minimal Typer app with the same commands as sarapay.")',
        "",
    ]

    def ident(*names: str) -> str:
        return "_".join(n.replace("-", "_") for n in names)

    for name, subs in tree.items():
        if subs is None:
            if name == "status":
                body = '    typer.echo("Aucune consultation.", err=True)'
                params = "state: Optional[str] = typer.Option(None)"
            elif name == "fees":
                body = '    typer.echo(f"{amount} €")'
                params = "amount: str"
            else:
                body = "    pass"
                params = ""
            lines += [f'@app.command("{name}")', f"def {ident(name)}({params}):", f'    """The {name} command."""', body, ""]
        else:
            group = f"{ident(name)}_app"
            lines += [f'{group} = typer.Typer(help="The {name} group.")', f'app.add_typer({group}, name="{name}")', ""]
            for sub in subs:
                lines += [f'@{group}.command("{sub}")', f"def {ident(name, sub)}():", f'    """The {name} {sub} command."""', ""]
    lines += ["", "def main():", "    app()"]
    return "\n".join(lines) + "\n"


def hermetic_env(home: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SARAPAY_", "STRIPE_"))}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", NO_COLOR="1", SARAPAY_LANG="fr")
    # Users run from cached bytecode (pip writes it, and Python after the first run): a shell with
    # PYTHONDONTWRITEBYTECODE=1 would recompile every sarapay module on every run. The cache goes to the
    # temporary folder, not into the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if home is not None:
        env["SARAPAY_HOME"] = str(home)
        env["PYTHONPYCACHEPREFIX"] = str(home.parent / "pycache")
    return env


def sarapay_argv() -> list[str]:
    script = Path(sys.executable).parent / "sarapay"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sarapay"]


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed


def imported_heavy(args: tuple[str, ...], env: dict[str, str]) -> list[str]:
    """The heavy modules `sarapay ARGS` imports, from python -X importtime (one line per module on stderr)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sarapay", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    found = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module in HEAVY:
                found.add(module)
    return sorted(found)


def machine() -> str:
    return describe(f"{platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs per program and case (default 40)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "startup.txt",
                        help="where to save the table (default benchmarks/results/startup.txt); '-' not to save")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sarapay-bench-") as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        env = hermetic_env(home)
        tree = command_tree()
        (tmp_path / "baseline_app.py").write_text(baseline_source(tree))
        (tmp_path / "baseline").write_text("import sys\nfrom baseline_app import main\nsys.exit(main())\n")
        programs = {"sarapay": sarapay_argv(), "baseline": [sys.executable, str(tmp_path / "baseline")]}

        for args in CASES:  # warm-up: bytecode caches, the empty ledger, the OS page cache
            for argv in programs.values():
                for _ in range(2):
                    run_once([*argv, *args], env)

        times: dict[tuple[str, tuple[str, ...]], list[float]] = {(p, c): [] for p in programs for c in CASES}
        for _ in range(options.runs):
            for args in CASES:
                for name, argv in programs.items():
                    times[(name, args)].append(run_once([*argv, *args], env))
        heavy = {args: imported_heavy(args, env) for args in CASES}

    commands = sum(1 if subs is None else len(subs) for subs in tree.values())
    rows = []
    header = ("command", "sarapay median", "sarapay min", "baseline median", "baseline min", "ratio", "goal", "heavy imports")
    for args in CASES:
        ours, base = times[("sarapay", args)], times[("baseline", args)]
        ratio = statistics.median(ours) / statistics.median(base)
        rows.append((
            "sarapay " + " ".join(args),
            f"{statistics.median(ours) * 1000:.0f} ms", f"{min(ours) * 1000:.0f} ms",
            f"{statistics.median(base) * 1000:.0f} ms", f"{min(base) * 1000:.0f} ms",
            f"{ratio:.2f}×", "ok" if ratio <= GOAL else f"over {GOAL}×",
            ", ".join(heavy[args]) or "none",
        ))
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    report = "\n".join([
        f"sarapay start-up vs a minimal Typer app with the same {commands} commands "
        f"({len(tree)} top-level), {options.runs} runs each, interleaved",
        f"machine: {machine()}",
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        fmt(header),
        fmt(tuple("-" * w for w in widths)),
        *(fmt(r) for r in rows),
        "",
        f"stripe imported by a local command: {'YES' if any('stripe' in h for h in heavy.values()) else 'no'}",
        "reproduce: .venv/bin/python benchmarks/startup.py",
    ])
    print(report)
    if str(options.output) != "-":
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(report + "\n")


if __name__ == "__main__":
    main()
