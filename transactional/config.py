"""Settings of the transactional core, read from EMPORIUM_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPORIUM_", extra="ignore")

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000
    # Commands committed together at most; 1 means a commit per request.
    max_batch: int = 256
    due_interval_seconds: float = 2.0
    # Python's thread switch interval in the server (see `emporium serve`).
    gil_switch_interval_seconds: float = 0.0002
    max_body_bytes: int = 1_048_576
    # The pipeline's forecast publish carries up to 20,000 alerts (about 8 MB) in one body,
    # since a publish replaces the whole list and cannot be split.
    max_forecast_body_bytes: int = 16 * 1_048_576
    idempotency_retention_hours: int = 48
    customer_token_ttl_seconds: int = 3600
    log_level: str = "INFO"
    # Where the CLI's operator commands find the server, and the key they use.
    api_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    # The analytics lake's raw layer (Parquet snapshots); default <data_dir>/lake.
    lake_dir: Path | None = None

    @property
    def lake_path(self) -> Path:
        return self.lake_dir if self.lake_dir is not None else self.data_dir / "lake"
