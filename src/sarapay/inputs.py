"""How raw user input is cleaned before parsing and echoed back in error messages.

One rule for every domain parser: surrounding blanks (including the no-break spaces U+00A0 and U+202F
that a copy from a French document or from our own output brings) are ignored, and a value quoted in a
message is shortened and stripped of control characters, so a pasted blob or an escape sequence never
floods or drives the terminal.
"""

from __future__ import annotations

# Blanks a French user may paste: space, tab, no-break space, narrow no-break space, thin space.
BLANKS = " \t\u00a0\u202f\u2009"
SHOWN_MAX = 40


def clean(text: str) -> str:
    """`text` without surrounding blanks; a non-string is a programming error."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    return text.strip()


def shown(text: object) -> str:
    """`text` as quoted in a message: one line, no control character, at most SHOWN_MAX characters."""
    value = "".join(" " if ch.isspace() else ch if ch.isprintable() else "?" for ch in str(text).strip())
    return value if len(value) <= SHOWN_MAX else value[: SHOWN_MAX - 1] + "…"
