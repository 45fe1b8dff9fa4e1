"""The hosted pages' common ground: one layout, French formatting, form fields.

The sandbox's pages stand in for Stripe's (Checkout, OAuth consent, onboarding) in the demo and in the
staff's training, so they are written for the people who will read them: French everywhere, a visible
MODE TEST banner, a phone layout, no JavaScript needed (every form is a plain POST answered with HTML),
nothing loaded from outside (inline CSS, no fonts, images or scripts from elsewhere; the
Content-Security-Policy header says so to the browser).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Iterable

try:
    from zoneinfo import ZoneInfo

    PARIS: Any = ZoneInfo("Europe/Paris")
    PARIS_LABEL = "heure de Paris"
except Exception:  # no time-zone database on this machine: say the time is UTC rather than guess
    PARIS, PARIS_LABEL = timezone.utc, "UTC"

# No script, no outside resource: the pages work the same with JavaScript off, and load nothing from a CDN.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the session id in the address stays with the sandbox
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

CSS = """
:root{--ink:#1a1f36;--muted:#5b6478;--line:#e3e8ee;--bg:#f6f8fa;--brand:#3341c6;--brand-dark:#27339e;
--ok:#0e6b37;--bad:#b4232a}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",
"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
.testmode{background:#fff3dc;border-bottom:1px solid #f0b44c;color:#6b4100;padding:.45rem 1rem;font-size:.9rem;
text-align:center}
.testmode strong{background:#f5a623;color:#2b1a00;border-radius:4px;padding:.05rem .45rem;margin-right:.35rem;
letter-spacing:.04em}
main{max-width:32rem;margin:0 auto;padding:1.25rem 1rem 2rem}
main.wide{max-width:62rem}
h1{font-size:1.45rem;line-height:1.25;margin:.2rem 0 .8rem}
h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
p{margin:.5rem 0}
a{color:var(--brand)}
.muted{color:var(--muted)}
.small{font-size:.88rem}
.card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:1.1rem 1.1rem 1.25rem;
box-shadow:0 1px 3px rgba(26,31,54,.06)}
.merchant{display:flex;align-items:center;gap:.6rem;font-weight:600;font-size:1.05rem;margin:.2rem 0 1rem}
.avatar{flex:none;width:2.3rem;height:2.3rem;border-radius:50%;background:#e7e9fb;color:var(--brand);
display:flex;align-items:center;justify-content:center;font-weight:700}
.back{display:inline-block;margin-bottom:.6rem;text-decoration:none;font-size:.95rem}
.amount{font-size:2.1rem;font-weight:700;letter-spacing:-.01em;margin:.1rem 0}
.label{color:var(--muted);font-size:.9rem;margin:0}
dl.summary{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:1rem 0;font-size:.95rem}
dl.summary dt{color:var(--muted)}
dl.summary dd{margin:0;font-weight:500}
.note{background:#eef1ff;border:1px solid #d3d9fb;border-radius:10px;padding:.8rem 1rem;margin:1rem 0;font-size:.95rem}
.note p{margin:.3rem 0}
.alert{border-radius:10px;padding:.8rem 1rem;margin:1rem 0}
.alert.bad{background:#fdeced;border:1px solid #f3c0c3;color:#7d1319}
.alert.ok{background:#e7f5ec;border:1px solid #b7e0c6;color:#0b4f29}
.alert.warn{background:#fff6e5;border:1px solid #f3d59a;color:#5e3b00}
.alert strong{display:block;font-size:1.05rem;margin-bottom:.15rem}
.field{margin:0 0 .9rem}
.field label,.legend{display:block;font-weight:600;font-size:.95rem;margin-bottom:.3rem}
.hint{display:block;color:var(--muted);font-size:.85rem;margin-top:.25rem}
.err{display:block;color:var(--bad);font-size:.88rem;font-weight:600;margin-top:.25rem}
input[type=text],input[type=email],input[type=url],select{width:100%;font:inherit;font-size:1rem;color:var(--ink);
padding:.65rem .75rem;border:1px solid #c9d1db;border-radius:8px;background:#fff}
input:focus,select:focus{outline:2px solid var(--brand);outline-offset:1px;border-color:var(--brand)}
input[aria-invalid=true],select[aria-invalid=true]{border-color:var(--bad);background:#fffafa}
.row{display:flex;gap:.75rem}
.row>.field{flex:1;min-width:0}
fieldset{border:0;padding:0;margin:0 0 .9rem;min-width:0}
legend{padding:0}
label.choice,.field label.choice{display:flex;gap:.6rem;align-items:flex-start;padding:.6rem .75rem;
border:1px solid #c9d1db;border-radius:8px;margin-bottom:.45rem;font-weight:400;background:#fff}
.choice input{margin-top:.3rem;flex:none}
.btn{display:block;width:100%;font:inherit;font-size:1.05rem;font-weight:600;padding:.85rem 1rem;border-radius:8px;
border:1px solid var(--brand);background:var(--brand);color:#fff;cursor:pointer;text-align:center;text-decoration:none}
.btn:hover{background:var(--brand-dark)}
.btn.secondary{background:#fff;color:var(--ink);border-color:#c9d1db}
.btn.secondary:hover{background:#f3f5f8}
.btn+.btn{margin-top:.6rem}
details{margin:1rem 0;border:1px solid var(--line);border-radius:10px;background:#fff;padding:.6rem .9rem}
details summary{cursor:pointer;font-weight:600}
details[open] summary{margin-bottom:.6rem}
.testcards{font-size:.88rem;color:var(--muted)}
.testcards ul{margin:.3rem 0;padding-left:1.1rem}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.9em}
pre.cmd{white-space:pre-wrap;overflow-wrap:anywhere;background:#111827;color:#e5e7eb;padding:.8rem .9rem;
border-radius:8px;font-size:.8rem;line-height:1.45;margin:.5rem 0;user-select:all;-webkit-user-select:all}
.check{font-size:2.2rem;line-height:1;color:var(--ok)}
hr{border:0;border-top:1px solid var(--line);margin:1.1rem 0}
footer{max-width:32rem;margin:0 auto;padding:0 1rem 2rem;color:var(--muted);font-size:.8rem;text-align:center}
@media (min-width:820px){
 main{padding-top:2.5rem}
 .split{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:3.5rem;align-items:start}
 .split>.summary-col{padding-top:.6rem}
 .amount{font-size:2.5rem}
}
"""

BANNER = (
    '<div class="testmode" role="note"><strong>MODE TEST</strong>Page d\'essai : aucune carte réelle '
    "n'est débitée.</div>"
)
FOOTER = "<footer>Bac à sable sarapay : cette page imite une page de Stripe pour les essais et la formation.</footer>"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(status: int, title: str, body: str, *, wide: bool = False,
         headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """A whole HTML page (the server sends a str body as text/html) with the common headers."""
    doc = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{esc(title)} · MODE TEST</title>
<style>{CSS}</style>
</head><body>
{BANNER}
<main{' class="wide"' if wide else ''}>
{body}
</main>
{FOOTER}
</body></html>"""
    return status, doc, {**HEADERS, **(headers or {})}


def see_other(url: str) -> tuple[int, str, dict[str, str]]:
    """The answer to a form POST that worked: the browser GETs `url` (303, never re-posts on reload)."""
    return 303, "", {"Location": url, "Cache-Control": "no-store"}


def redirect(url: str) -> tuple[int, str, dict[str, str]]:
    """A plain 302 to `url` (a used Account Link sending the browser to the platform's refresh_url)."""
    return 302, "", {"Location": url}


# --------------------------------------------------------------------------- French formatting

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")
NBSP, NNBSP = "\u00a0", "\u202f"  # before €; between thousands (CLDR fr-FR, domain.md §5)


def money(cents: int, currency: str = "eur") -> str:
    """25,00 € (1 234,50 € with a narrow no-break space between thousands); other currencies by code."""
    units, rest = divmod(abs(int(cents)), 100)
    grouped = f"{units:,}".replace(",", NNBSP)
    sign = "-" if cents < 0 else ""
    unit = "€" if currency.lower() == "eur" else currency.upper()
    return f"{sign}{grouped},{rest:02d}{NBSP}{unit}"


def paris(value: int | float | str | datetime | None) -> datetime | None:
    """A Unix time, an ISO 8601 string (UTC `Z` allowed) or a datetime, in Paris time; None if unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        elif isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(value, timezone.utc)
        else:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.astimezone(PARIS)


def long_date(moment: datetime) -> str:
    """mardi 1er décembre 2026 à 10:30"""
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{_DAYS[moment.weekday()]} {day} {_MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M}"


def short_date(moment: datetime) -> str:
    """01/12/2026 à 10:30"""
    return f"{moment:%d/%m/%Y} à {moment:%H:%M}"


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha() and w.lower().rstrip(".") not in
             ("dr", "dre", "pr", "m", "mme", "de", "du", "des", "la", "le")]
    return "".join(w[0].upper() for w in words[:2]) or (name[:1].upper() if name else "?")


# --------------------------------------------------------------------------- form fields


def hidden(values: dict[str, Any]) -> str:
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in values.items()
                   if v is not None and v != "")


def field(name: str, label: str, *, value: Any = "", error: str | None = None, hint: str | None = None,
          type: str = "text", attrs: str = "", focus: bool = False) -> str:
    """A labelled input, its hint and its error (announced to screen readers through aria-describedby).
    `focus`: the browser scrolls to it and puts the cursor there (the first field to correct), no script."""
    ids = []
    extra = ""
    if hint:
        extra += f'<span class="hint" id="{esc(name)}-hint">{hint}</span>'
        ids.append(f"{name}-hint")
    if error:
        extra += f'<span class="err" id="{esc(name)}-err">{esc(error)}</span>'
        ids.append(f"{name}-err")
    described = f' aria-describedby="{esc(" ".join(ids))}"' if ids else ""
    invalid = ' aria-invalid="true"' if error else ""
    attrs = " ".join(a for a in (attrs, "autofocus" if focus else "") if a)
    return (f'<div class="field"><label for="{esc(name)}">{label}</label>'
            f'<input type="{type}" id="{esc(name)}" name="{esc(name)}" value="{esc(value)}"{described}{invalid}'
            f'{" " + attrs if attrs else ""}>{extra}</div>')


def select(name: str, label: str, options: Iterable[tuple[str, str]], *, value: str = "",
           error: str | None = None, hint: str | None = None, focus: bool = False) -> str:
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == value else ""}>{esc(text)}</option>'
                   for v, text in options)
    extra = (f'<span class="hint">{hint}</span>' if hint else "") + (
        f'<span class="err" id="{esc(name)}-err">{esc(error)}</span>' if error else "")
    invalid = ' aria-invalid="true"' if error else ""
    return (f'<div class="field"><label for="{esc(name)}">{label}</label>'
            f'<select id="{esc(name)}" name="{esc(name)}"{invalid}{" autofocus" if focus else ""}>{opts}</select>'
            f'{extra}</div>')


def error_summary(errors: dict[str, str], heading: str = "Quelques informations sont à corriger") -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{esc(message)}</li>" for message in errors.values())
    return f'<div class="alert bad" role="alert"><strong>{esc(heading)}</strong><ul>{items}</ul></div>'
