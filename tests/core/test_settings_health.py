from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from upswing.settings import PLACEHOLDER_SECRET, Settings


def test_placeholder_secret_refused_outside_development() -> None:
    assert Settings(environment="development", secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError, match="UPSWING_SECRET_KEY"):
        Settings(environment="production", secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError, match="UPSWING_SECRET_KEY"):
        Settings(environment="production", secret_key="short")
    assert Settings(environment="production", secret_key="x" * 40)


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("UPSWING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("UPSWING_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'upswing.db'}"
    monkeypatch.setenv("UPSWING_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_health_and_readiness(client: Any) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert client.get("/openapi.json").status_code == 200
