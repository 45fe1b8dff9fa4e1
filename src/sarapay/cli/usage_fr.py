"""Click's own usage errors, said in French when the user works in French.

The parser (vendored by Typer) only speaks English. Its messages have a handful of fixed shapes, so the
error boundary rewrites those shapes; anything unknown is left as it is rather than mistranslated.
"""

from __future__ import annotations

import re

# (English shape, French rewrite). Applied in order, each at most once, to the whole message.
_SHAPES: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r"^Missing argument '(?P<name>[^']+)'\.$"), r"Argument manquant : \g<name>."),
    (re.compile(r"^Missing option '(?P<name>[^']+)'\.$"), r"Option obligatoire manquante : \g<name>."),
    (re.compile(r"^Missing parameter: (?P<name>.+)$"), r"Paramètre manquant : \g<name>."),
    (re.compile(r"^No such command '(?P<name>[^']+)'\.(?: Did you mean '(?P<hint>[^']+)'\?)?$"),
     r"Commande inconnue : « \g<name> »."),
    (re.compile(r"^No such option: (?P<name>\S+)(?: Did you mean (?P<hint>\S+)\?)?(?: \(Possible options: (?P<list>.+)\))?$"),
     r"Option inconnue : \g<name>."),
    (re.compile(r"^Option '(?P<name>[^']+)' requires an argument\.$"), r"L'option \g<name> attend une valeur."),
    (re.compile(r"^Option '(?P<name>[^']+)' requires (?P<n>\d+) arguments\.$"), r"L'option \g<name> attend \g<n> valeurs."),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$"), r"Argument en trop : \g<args>."),
    (re.compile(r"^Invalid value for (?P<param>.+?): (?P<why>.+)$", re.S), None),  # handled below
]

_WHY: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Input should be a valid integer.*$", re.S), "un nombre entier est attendu"),
    (re.compile(r"^'(?P<v>.*)' is not a valid integer\.?$"), "« \\g<v> » n'est pas un nombre entier"),
    (re.compile(r"^Input should be greater than or equal to (?P<n>-?\d+)$"), "au moins \\g<n>"),
    (re.compile(r"^Input should be less than or equal to (?P<n>-?\d+)$"), "au plus \\g<n>"),
    (re.compile(r"^Input should be greater than (?P<n>-?\d+)$"), "plus de \\g<n>"),
    (re.compile(r"^Input should be less than (?P<n>-?\d+)$"), "moins de \\g<n>"),
    (re.compile(r"^(?P<v>.+) is not in the range (?P<r>.+)\.$"), "\\g<v> n'est pas dans l'intervalle \\g<r>"),
    (re.compile(r"^'(?P<v>.*)' is not one of (?P<choices>.+)\.$"), "« \\g<v> » n'est pas parmi \\g<choices>"),
]


def to_french(message: str) -> str:
    text = message.strip()
    for shape, rewrite in _SHAPES:
        match = shape.match(text)
        if not match:
            continue
        if rewrite is None:
            return f"Valeur invalide pour {match['param']} : {_why(match['why'].strip()).rstrip('.')}."
        french = match.expand(rewrite)
        hint = match.groupdict().get("hint")
        if hint:
            french += f" Vouliez-vous dire {hint.strip(chr(39))} ?"
        elif match.groupdict().get("list"):
            french += f" Options proches : {match['list']}."
        return french
    return message


def _why(reason: str) -> str:
    for shape, rewrite in _WHY:
        match = shape.match(reason)
        if match:
            return match.expand(rewrite)
    return reason
