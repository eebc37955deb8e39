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


def test_serve_runs_the_served_app_keeping_idle_connections_past_the_clients_timeout(
        settings_database: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``upswing serve`` hands uvicorn the served app and a keep-alive longer than clients' and proxies' own idle
    timeouts (``UPSWING_HTTP_KEEPALIVE_SECONDS``): with equal timeouts (uvicorn's and httpx's 5 s) a request sent
    as the server closes an idle connection is reset — the soak benchmark saw a few every five minutes."""
    import uvicorn

    from upswing.settings import get_settings

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setenv("UPSWING_TASK_RUNNER", "celery")  # no runner thread for this test
    monkeypatch.setenv("UPSWING_SECRET_KEY", "x" * 48)
    get_settings.cache_clear()
    core_cli.serve(host="127.0.0.1", port=0, reload=False, workers=2)
    ((args, kwargs),) = calls
    assert args == ("upswing.app:create_served_app",) and kwargs["factory"] is True and kwargs["workers"] == 2
    assert kwargs["timeout_keep_alive"] == 75

    calls.clear()
    monkeypatch.setenv("UPSWING_HTTP_KEEPALIVE_SECONDS", "120")
    get_settings.cache_clear()
    core_cli.serve(host="127.0.0.1", port=0, reload=False, workers=1)
    assert calls[0][1]["timeout_keep_alive"] == 120
