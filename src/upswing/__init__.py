"""Upswing: signal-based lead engagement for recovery teams."""

__version__ = "0.1.0"
