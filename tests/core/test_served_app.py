"""The app as ``upswing serve`` runs it: the same app, its startup objects frozen out of the collector's passes."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from upswing import app as app_module
from upswing.core import cli as core_cli


def test_the_served_app_is_built_then_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    built = object()

    def create_app() -> Any:
        calls.append("create")
        return built

    monkeypatch.setattr(app_module, "create_app", create_app)
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert app_module.create_served_app() is built
    assert calls == ["create", "collect", "freeze"]


def test_serve_runs_the_served_app() -> None:
    source = core_cli.serve.__code__.co_consts
    assert "upswing.app:create_served_app" in source
