"""sarapay: online payment of teleconsultations on Stripe Connect."""

__version__ = "0.1.0"
