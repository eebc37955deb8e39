"""analytics domain: read-only reports over signals, their outcomes and feedback (docs/analytics.md)."""
