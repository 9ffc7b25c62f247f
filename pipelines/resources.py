"""Resources of the pipeline: the store (through its API, or its file when no server runs) and the warehouse.

The store file belongs to the API server while it runs (DuckDB: one process per
file), so the pipeline asks the server for snapshots and posts alerts to it.
Only when no server answers does it open the file itself, under the same lock
file the server takes, so the two can never open the store at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import orjson

from transactional.storage import lake
from transactional.storage.database import LOCK_FILE, STORE_FILE, StoreLock, connect, migrate
from transactional.storage.reads import admin as admin_reads

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO / "data"
# The demo build writes one key per role here; real stores set EMPORIUM_PIPELINE_KEY.
DEMO_KEYS_FILE = "demo-keys.json"


class ServerUnavailable(Exception):
    """No server answered at the configured URL."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    manifest: dict[str, Any]
    via: str  # "api" or "file"


class StoreResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The store: its data dir, its lake and the API of the server that owns it."""

    data_dir: str = str(DEFAULT_DATA_DIR)
    lake_dir: str | None = None
    api_url: str = "http://127.0.0.1:8000"
    pipeline_key: str | None = None
    timeout_seconds: float = 300.0

    @property
    def lake_path(self) -> Path:
        return Path(self.lake_dir) if self.lake_dir else Path(self.data_dir) / "lake"

    def _key(self) -> str | None:
        if self.pipeline_key:
            return self.pipeline_key
        keys_file = Path(self.data_dir) / DEMO_KEYS_FILE
        if keys_file.exists():
            return orjson.loads(keys_file.read_bytes()).get("pipeline")  # type: ignore[no-any-return]
        return None

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        key = self._key()
        if not key:
            raise RuntimeError(
                f"no pipeline key: set EMPORIUM_PIPELINE_KEY (or keep {DEMO_KEYS_FILE} in {self.data_dir})"
            )
        try:
            response = httpx.request(
                method,
                self.api_url.rstrip("/") + path,
                headers={"Authorization": f"Bearer {key}"},
                json=body,
                timeout=self.timeout_seconds,
            )
        except httpx.ConnectError as exc:
            raise ServerUnavailable(f"no server at {self.api_url}") from exc
        if response.status_code >= 400:
            try:
                problem = response.json()
                detail = f"{problem.get('detail')} [{problem.get('code')}]"
            except ValueError:
                detail = response.text[:300]
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {detail}")
        return response.json()  # type: ignore[no-any-return]

    def take_snapshot(self) -> Snapshot:
        """A consistent snapshot of every table into the lake: by the server, or from the file if none runs."""
        try:
            self._call("POST", "/api/v1/lake/snapshots")
        except ServerUnavailable:
            return Snapshot(self._export_from_file(), via="file")
        manifest = lake.read_manifest(self.lake_path)
        if manifest is None:
            raise RuntimeError(
                f"the server answered but {self.lake_path} has no manifest: "
                "is the server's lake dir the one this pipeline reads (EMPORIUM_LAKE_DIR)?"
            )
        return Snapshot(manifest, via="api")

    def _export_from_file(self) -> dict[str, Any]:
        data_dir = Path(self.data_dir)
        if not (data_dir / STORE_FILE).exists():
            raise RuntimeError(f"no store in {data_dir} and no server at {self.api_url}")
        lock = StoreLock(data_dir / LOCK_FILE)
        lock.acquire("emporium pipeline (lake snapshot)")
        try:
            # Same as any offline command: bring an older store file to the code's schema first.
            con = connect(data_dir)
            try:
                migrate(con)
                cur = con.cursor()
                store = admin_reads.get_store(cur)
                timezone = store["timezone"] if store is not None else "UTC"
                return lake.export_snapshot(cur, self.lake_path, timezone=timezone)
            finally:
                con.close()
        finally:
            lock.release()

    def post_forecast_alerts(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST the forecast alert list to the server; None when no server runs."""
        try:
            return self._call("POST", "/api/v1/alerts/forecasts", body)
        except ServerUnavailable:
            return None


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The dbt warehouse file and the published marts file that dashboards read."""

    warehouse_path: str = str(DEFAULT_DATA_DIR / "warehouse.duckdb")
    marts_path: str = str(DEFAULT_DATA_DIR / "marts.duckdb")
    dbt_target_dir: str = str(DEFAULT_DATA_DIR / "dbt-target")

    @contextmanager
    def read_marts(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published marts (never the warehouse, which dbt locks)."""
        con = duckdb.connect(self.marts_path, read_only=True)
        try:
            yield con
        finally:
            con.close()


def store_timezone() -> str:
    """The store's zone for schedules: EMPORIUM_STORE_TIMEZONE, else the lake manifest's, else UTC.

    Schedules are fixed when the definitions load, so the zone comes from
    configuration or the lake's manifest, never from the store file (the server holds it).
    """
    configured = os.environ.get("EMPORIUM_STORE_TIMEZONE")
    if configured:
        return configured
    data_dir = Path(os.environ.get("EMPORIUM_DATA_DIR", str(DEFAULT_DATA_DIR)))
    manifest = lake.read_manifest(Path(os.environ.get("EMPORIUM_LAKE_DIR", str(data_dir / "lake"))))
    return str(manifest["timezone"]) if manifest else "UTC"


def from_environment() -> dict[str, Any]:
    """Resource settings from EMPORIUM_* variables, with the repository's data/ as the default."""
    data_dir = Path(os.environ.get("EMPORIUM_DATA_DIR", str(DEFAULT_DATA_DIR))).resolve()
    lake_dir = os.environ.get("EMPORIUM_LAKE_DIR")
    return {
        "store": StoreResource(
            data_dir=str(data_dir),
            lake_dir=str(Path(lake_dir).resolve()) if lake_dir else None,
            api_url=os.environ.get("EMPORIUM_API_URL", "http://127.0.0.1:8000"),
            pipeline_key=os.environ.get("EMPORIUM_PIPELINE_KEY"),
        ),
        "warehouse": WarehouseResource(
            warehouse_path=os.environ.get("EMPORIUM_WAREHOUSE", str(data_dir / "warehouse.duckdb")),
            marts_path=os.environ.get("EMPORIUM_MARTS", str(data_dir / "marts.duckdb")),
            dbt_target_dir=str(data_dir / "dbt-target"),
        ),
    }
