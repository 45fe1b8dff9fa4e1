"""Everything that reaches the terminal: data on stdout, messages and progress on stderr.

- `console`: the two consoles, colour rules, messages, the pager, progress bars;
- `machine`: --json, --nl, --csv, --excel (stable keys, integer cents, ISO 8601 UTC);
- `cells`: what tables share (labels, Paris time, money, tables fitted to the terminal);
- one module per view: `consultations` (status), `audit` (log), `payouts`, `statement`, `fees`,
  `practitioners`, `reconcile`, `disputes`; `pdf` writes the statement's PDF.

Human output is French by default (labels from statuses.py, amounts from money.py); machine output is
language-independent. Nothing here imports rich at module level: start-up stays as fast as a plain message.
"""
