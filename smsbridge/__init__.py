"""smsbridge: citizens' SMS reports from a GSM modem into cases with ticket numbers."""

__version__ = "0.1.0"
