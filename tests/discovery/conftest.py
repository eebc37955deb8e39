"""Fixtures of the discovery tests: ``allow_loopback`` (the fakes' address allow-listed in the settings)."""

from __future__ import annotations

from pipeline.monitoring_support import allow_loopback

__all__ = ["allow_loopback"]
