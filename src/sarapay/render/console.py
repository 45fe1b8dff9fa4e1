"""The terminal: consoles for stdout (data) and stderr (messages, progress), colour rules, the pager.

rich is imported only when something is printed with it, so plain messages cost nothing at start-up.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from rich.console import Console



_consoles: dict[str, Any] = {}
COLOR_MODES = ("auto", "always", "never")
_color_mode = "auto"


def set_color(mode: str | None) -> None:
    """--color auto|always|never (None: auto). The environment decides only under auto."""
    global _color_mode
    if mode is not None and mode not in COLOR_MODES:
        raise ValueError(mode)
    _color_mode = mode or "auto"
    _consoles.clear()


def color_enabled(stream: Any) -> bool:
    """gh's rules: --color wins; then NO_COLOR (any value) and CLICOLOR=0 turn colour off, CLICOLOR_FORCE
    (not 0) turns it on; otherwise colour only on a terminal."""
    if _color_mode != "auto":
        return _color_mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("CLICOLOR") == "0":
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") != "0":
        return True
    return isatty(stream)


def isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _console(stream: str) -> Console:
    from rich.console import Console

    # Consoles are created lazily (rich is imported only when something is printed) and rebuilt when
    # the underlying stream changes, which CliRunner does for each invocation.
    target = sys.stdout if stream == "out" else sys.stderr
    cached = _consoles.get(stream)
    if cached is None or cached.file is not target:
        color = color_enabled(target)
        cached = Console(
            file=target, no_color=not color, color_system="auto" if color else None, highlight=False, soft_wrap=False,
            # Forced colour into a pipe: rich only emits colour codes to what it believes is a terminal.
            force_terminal=True if (color and not isatty(target)) else None,
        )
        _consoles[stream] = cached
    return cached


def out() -> Console:
    """The stdout console: data only."""
    return _console("out")


def err() -> Console:
    """The stderr console: messages, banners, progress."""
    return _console("err")


def message(text: str, style: str | None = None) -> None:
    if not color_enabled(sys.stderr):  # plain text needs no rich (start-up time: `status` on an empty ledger)
        sys.stderr.write(text + "\n")
        return
    # soft_wrap: a message is one logical line; the terminal wraps it, rich must not cut it in pieces.
    err().print(text, style=style, markup=False, soft_wrap=True)


def warn(text: str) -> None:
    message(text, style="yellow")


def data_line(text: str) -> None:
    """A plain line of data on stdout (no markup, no wrapping)."""
    sys.stdout.write(text + "\n")


def print_data(renderable: Any) -> None:
    """A table on stdout; piped or captured output is never wrapped at 80 columns."""
    stdout = out()
    if isatty(stdout.file):
        with stdout.capture() as captured:
            stdout.print(renderable)
        text = captured.get()
        if text.count("\n") < stdout.height or not _page(text):
            stdout.file.write(text)
            stdout.file.flush()
        return
    # Console.print(width=...) is capped at the console's own width (80 when piped): widen the console itself.
    from rich.console import Console

    # rich names its colour systems as text; the one it chose for stdout is one of those its Console takes.
    system = cast(Literal["auto", "standard", "256", "truecolor", "windows"] | None, stdout.color_system)
    wide = Console(
        file=stdout.file, no_color=stdout.no_color, color_system=system, force_terminal=stdout.is_terminal,
        highlight=False, soft_wrap=False, width=max(stdout.width, 240),
    )
    wide.print(renderable)


def _page(text: str) -> bool:
    """Shows `text` through the pager (gh's rule: only on a terminal; SARAPAY_PAGER, then PAGER, then
    `less`; empty or `cat` means none). LESS defaults to FRX: quit if one screen, keep colours, leave the
    text on screen. Returns False when no pager ran, so the caller prints the text itself."""
    import shlex
    import shutil
    import subprocess

    pager = os.environ.get("SARAPAY_PAGER", os.environ.get("PAGER", "less")).strip()
    words = shlex.split(pager) if pager else []
    if not words or words[0] == "cat" or shutil.which(words[0]) is None or not isatty(sys.stdin):
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    sys.stdout.flush()
    try:
        subprocess.run(words, input=text, text=True, env=env, check=False)
    except OSError:
        return False
    return True


class progress:
    """`with console.progress(label, enabled) as step:` a transient progress bar on stderr, only when stderr is a
    terminal; `step(done, total)` moves it. `step` is None otherwise (cron, pipes, --json), so services can
    take it as an optional callback."""

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled and err().is_terminal
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "progress | None":
        if not self.enabled:
            return None
        from rich.progress import Progress

        self._bar = Progress(console=err(), transient=True)
        self._bar.__enter__()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
