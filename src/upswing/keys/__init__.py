"""Encryption keys for PII at rest: generate, report and rotate them (re-encrypting every sealed value)."""
