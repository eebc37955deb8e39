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


def test_no_server_runs_on_the_placeholder_secret(tmp_path: Any, monkeypatch: Any) -> None:
    from upswing.app import create_app

    monkeypatch.delenv("UPSWING_SECRET_KEY", raising=False)
    settings = Settings(environment="development", data_dir=tmp_path, database_url="sqlite://")
    assert settings.uses_placeholder_secret
    with pytest.raises(RuntimeError, match="placeholder"):
        create_app(settings)


def test_serve_refuses_the_placeholder_before_touching_anything(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("UPSWING_SECRET_KEY", "UPSWING_DATABASE_URL")}
    env.update({"UPSWING_DATA_DIR": str(tmp_path), "UPSWING_ENVIRONMENT": "development"})
    result = subprocess.run([sys.executable, "-c", "from upswing.cli import main; main()", "serve",
                             "--port", "0", "--host", "0.0.0.0"],  # noqa: S104 - the case being refused
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "UPSWING_SECRET_KEY is not set" in result.stdout + result.stderr
    assert not (tmp_path / "upswing.db").exists()


def test_the_demo_makes_its_own_secrets_once_and_reuses_them(tmp_path: Any, monkeypatch: Any) -> None:
    import json
    import stat

    from upswing.core.local_secrets import ensure_local_secrets
    from upswing.settings import local_secrets_path

    monkeypatch.delenv("UPSWING_SECRET_KEY", raising=False)
    written = ensure_local_secrets(tmp_path, existing_data=False)
    assert written is not None and written == local_secrets_path(tmp_path)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    stored = json.loads(written.read_text())
    assert len(stored["secret_key"]) >= 32 and stored["encryption_keys"].startswith("k1:")
    settings = Settings(data_dir=tmp_path)
    assert not settings.uses_placeholder_secret
    assert settings.secret_key.get_secret_value() == stored["secret_key"]
    assert settings.encryption_keys is not None and settings.blind_index_key is not None
    assert ensure_local_secrets(tmp_path, existing_data=False) is None  # kept, not replaced
    assert json.loads(written.read_text()) == stored
    # A secret set in the environment wins, and the file's PII keys are then not used either.
    monkeypatch.setenv("UPSWING_SECRET_KEY", "x" * 40)
    explicit = Settings(data_dir=tmp_path)
    assert explicit.secret_key.get_secret_value() == "x" * 40 and explicit.encryption_keys is None


def test_a_demo_filled_before_keeps_its_data_readable(tmp_path: Any, monkeypatch: Any) -> None:
    from upswing.core.crypto import KeyRing
    from upswing.core.local_secrets import ensure_local_secrets

    monkeypatch.delenv("UPSWING_SECRET_KEY", raising=False)
    legacy = KeyRing.from_settings(Settings(environment="development", data_dir=tmp_path / "nothing-here"))
    sealed = legacy.encrypt("jane@example.org", context="leads.email")
    ensure_local_secrets(tmp_path, existing_data=True)
    settings = Settings(environment="development", data_dir=tmp_path)
    assert not settings.uses_placeholder_secret
    assert KeyRing.from_settings(settings).decrypt(sealed, context="leads.email") == "jane@example.org"
