"""Consented first-party tracking on the lender's own portal (docs/tracking.md)."""
