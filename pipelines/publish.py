"""Publish the marts: copy them out of the warehouse into a new file, then rename it over the one readers use.

dbt holds the warehouse file's lock while it builds (one process per DuckDB
file), so dashboards never open the warehouse. They read ``marts.duckdb``,
which only this step writes: the marts tables are copied into a temporary file
next to it, checkpointed and fsynced, and renamed over the published file in
one ``os.replace``. A reader that opens the path gets either the previous
publication or the new one, never a half-written file; a connection opened
before the rename keeps reading the old file, which is why readers key their
caches on ``marts_version`` and reopen when it changes.

Only the marts layer is copied (``fct_*``, ``mart_*``, ``dim_*`` tables):
staging and most intermediate models are views over the Parquet lake, and an
intermediate table kept for incremental builds is working state, not a mart.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

PUBLICATION_TABLE = "_publication"


@dataclass(frozen=True, slots=True)
class Publication:
    publication_id: str
    path: Path
    tables: dict[str, int]  # table -> rows
    bytes: int
    duration_ms: float


def marts_version(path: Path) -> str | None:
    """A token that changes whenever a new marts file is renamed into place (None if none is published)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish_marts(
    warehouse: Path, marts: Path, *, manifest: dict[str, Any], currency: str | None = None
) -> Publication:
    """Copy the marts-layer tables of the warehouse into a new file and atomically replace ``marts``.

    ``manifest`` is the lake manifest the warehouse was built from; its snapshot id,
    commit sequence and time are recorded in ``_publication`` so that every page
    can say how fresh its data is, with the store's ``currency`` for money.
    """
    started = time.perf_counter()
    marts.parent.mkdir(parents=True, exist_ok=True)
    tmp = marts.parent / f".tmp-{uuid.uuid4().hex}-{marts.name}"
    publication_id = f"pub_{uuid.uuid4().hex}"
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_sql_str(str(warehouse))} as w (read_only)")
        con.execute(f"attach {_sql_str(str(tmp))} as m")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'w' and table_schema = 'main' and table_type = 'BASE TABLE' "
                "and (table_name like 'fct\\_%' escape '\\' or table_name like 'mart\\_%' escape '\\' "
                "or table_name like 'dim\\_%' escape '\\') order by table_name"
            ).fetchall()
        ]
        if not names:
            raise RuntimeError(f"{warehouse} holds no tables: nothing to publish")
        tables: dict[str, int] = {}
        con.execute("begin transaction")
        for name in names:
            con.execute(f'create table m."{name}" as from w."{name}"')
            tables[name] = int(con.execute(f'select count(*) from m."{name}"').fetchone()[0])  # type: ignore[index]
        con.execute(
            f"create table m.{PUBLICATION_TABLE} ("
            "publication_id varchar, published_at timestamptz, snapshot_id varchar, commit_seq bigint, "
            "snapshot_created_at timestamptz, store_timezone varchar, currency varchar, tables integer)"
        )
        con.execute(
            f"insert into m.{PUBLICATION_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                publication_id,
                datetime.now(UTC),
                manifest.get("snapshot_id"),
                manifest.get("commit_seq"),
                manifest.get("created_at"),
                manifest.get("timezone"),
                currency,
                len(tables),
            ],
        )
        con.execute("commit")
        con.execute("checkpoint m")
        con.execute("detach m")
        con.execute("detach w")
    except BaseException:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, marts)
    dir_fd = os.open(marts.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    return Publication(
        publication_id=publication_id,
        path=marts,
        tables=tables,
        bytes=marts.stat().st_size,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
