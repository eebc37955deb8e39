"""Settings from the environment (prefix ``UPSWING_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the sentinel we refuse outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPSWING_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("./var"), description="Where the SQLite database and files live")
    database_url: str | None = Field(default=None, description="Defaults to SQLite in data_dir")
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    log_level: str = "INFO"
    log_json: bool = False
    lookback_days: int = Field(default=90, ge=1, description="First-snapshot look-back window")
    import_max_bytes: int = 200 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
            raise ValueError(
                "UPSWING_SECRET_KEY must be set to a random value of at least 32 characters "
                f"outside development (environment={self.environment})"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'upswing.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
