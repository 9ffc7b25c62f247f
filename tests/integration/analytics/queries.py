"""Read-only queries for the analytics tests: the warehouse the marts live in, and the store file they
are checked against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from transactional.storage.database import STORE_FILE

TIMEZONE = "America/New_York"


def _query(path: Path, sql: str, params: list[Any] | None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def from_warehouse(data_dir: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows from the dbt warehouse built in ``data_dir``."""
    return _query(data_dir / "warehouse.duckdb", sql, params)


def from_store(data_dir: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows from the store file itself (the independent side of every comparison)."""
    return _query(data_dir / STORE_FILE, sql, params)
