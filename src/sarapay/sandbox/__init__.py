"""A local Stripe-compatible server for sarapay's demo and tests (docs/sandbox.md).

It imports nothing from the rest of sarapay, so the client and the sandbox cannot share a mistake.
"""

from .server import SandboxServer

__all__ = ["SandboxServer"]
