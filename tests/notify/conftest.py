"""Fixtures for the notify tests: a port nothing listens on, and a resolver the test controls."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from upswing.core import http as http_module
from upswing.core.http import IPAddress


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again before use: nothing listens there


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """``dns["name"] = ["10.0.0.1"]``; other names do not resolve. Every look-up Upswing makes goes through
    ``core.http.resolve_host`` (as in tests/core/test_ssrf.py)."""
    answers: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[IPAddress]:
        if host.lower() not in answers:
            raise OSError(f"{host}: Name or service not known")
        return [ipaddress.ip_address(a) for a in answers[host.lower()]]

    monkeypatch.setattr(http_module, "resolve_host", resolve)
    return answers
