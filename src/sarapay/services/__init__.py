"""The use cases (link, plan, capture, reconcile, ...): no printing, no Typer, no SQL.

Each service takes a `Context` (services/context.py) and returns plain data for the CLI to render.
"""
