"""The raw layer of the analytics lake: consistent Parquet snapshots of the store.

``export_snapshot`` runs on one read cursor inside ONE read transaction (DuckDB's
snapshot isolation), so every file of a snapshot shows the store at the same
commit sequence, while the writer keeps committing.

- Journals (TableSpec residency ``append``: commits, audit log, stock movements,
  status history, tracking, ledger, store credit, storefront events, ...) are
  never updated, so they are exported incrementally: the rows with
  ``high-water < commit_seq <= snapshot seq``, in one file per store-local day of
  the commit: ``<table>/day=YYYY-MM-DD/part-<from_seq>-<to_seq>.parquet``. A late
  event (occurred yesterday, committed today) has a new commit_seq, so it is
  never missed; it lands in today's commit day.
- Every other table is rewritten whole: ``<table>/snapshot-<seq>.parquet``, one
  file per table per snapshot. The name carries the commit sequence so that the
  previous manifest's file stays in place until the new manifest is published.

Publication: every file is written under a temporary name in its own directory,
renamed into place once all are written, and ``_manifest.json`` is replaced
last (temp file + rename). A reader that trusts only the manifest never sees a
half snapshot. Files of a failed export (renamed but not in the manifest) and
superseded table files are removed by the next export.

Secrets never reach the lake: ``server_secrets`` and ``idempotency_keys``
(stored responses can carry a secret shown once) are not exported, nor are the
hash and token columns in ``EXCLUDED_COLUMNS``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import orjson

from transactional.domain.errors import Conflict
from transactional.storage.tables import TABLES

MANIFEST = "_manifest.json"
LOCK = "_snapshot.lock"
FORMAT_VERSION = 1

EXCLUDED_TABLES = frozenset({"server_secrets", "idempotency_keys"})
EXCLUDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "api_keys": ("secret_sha256",),
    "orders": ("access_token_sha256",),
    "payments": ("token",),
}
APPEND_TABLES = tuple(
    name for name, spec in TABLES.items() if spec.residency == "append" and name not in EXCLUDED_TABLES
)
SNAPSHOT_TABLES = tuple(
    name for name, spec in TABLES.items() if spec.residency != "append" and name not in EXCLUDED_TABLES
)


class SnapshotRunning(Conflict):
    default_code = "snapshot_running"


def read_manifest(lake_dir: Path) -> dict[str, Any] | None:
    """The lake's current manifest, or None before the first snapshot."""
    path = lake_dir / MANIFEST
    if not path.exists():
        return None
    return orjson.loads(path.read_bytes())  # type: ignore[no-any-return]


@contextmanager
def _exclusive(lake_dir: Path) -> Iterator[None]:
    """One export at a time per lake, across threads and processes."""
    lake_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lake_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SnapshotRunning(f"a snapshot of {lake_dir} is already running") from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _select(table: str) -> str:
    excluded = EXCLUDED_COLUMNS.get(table)
    return f"select * exclude ({', '.join(excluded)})" if excluded else "select *"


def _scalar(cur: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = cur.execute(sql).fetchone()
    assert row is not None
    return row[0]


def export_snapshot(cur: duckdb.DuckDBPyConnection, lake_dir: Path, *, timezone: str) -> dict[str, Any]:
    """Export the store to the lake as one consistent snapshot; return the new manifest.

    Raises SnapshotRunning if another export of this lake is in progress.
    """
    ZoneInfo(timezone)  # refuse an unknown zone before touching anything
    with _exclusive(lake_dir):
        return _export(cur, lake_dir, timezone)


def _export(cur: duckdb.DuckDBPyConnection, lake_dir: Path, timezone: str) -> dict[str, Any]:
    started = time.perf_counter()
    previous = read_manifest(lake_dir)
    _remove_unlisted(lake_dir, previous)
    prev_tables: dict[str, Any] = previous["tables"] if previous else {}
    snapshot_id = f"snap_{uuid.uuid4().hex}"
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    tables: dict[str, Any] = {}
    try:
        cur.execute("begin transaction")
        try:
            seq = int(_scalar(cur, "select coalesce(max(commit_seq), 0) from commits"))
            for table in SNAPSHOT_TABLES:
                tables[table] = _stage_snapshot_table(cur, lake_dir, table, seq, staged)
            for table in APPEND_TABLES:
                tables[table] = _stage_append_table(
                    cur, lake_dir, table, seq, timezone, prev_tables.get(table), staged
                )
        except BaseException:
            cur.execute("rollback")
            raise
        cur.execute("commit")  # read only: ends the snapshot
        for tmp, final in staged:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()
        for tmp_dir in lake_dir.glob("*/.tmp-*"):
            shutil.rmtree(tmp_dir, ignore_errors=True)
    manifest = {
        "format": FORMAT_VERSION,
        "snapshot_id": snapshot_id,
        "previous_snapshot_id": previous["snapshot_id"] if previous else None,
        "created_at": datetime.now(UTC).isoformat(),
        "commit_seq": seq,
        "timezone": timezone,
        "tables": tables,
    }
    _publish_manifest(lake_dir, manifest)
    _remove_unlisted(lake_dir, manifest)
    manifest["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return manifest


def _stage_snapshot_table(
    cur: duckdb.DuckDBPyConnection, lake_dir: Path, table: str, seq: int, staged: list[tuple[Path, Path]]
) -> dict[str, Any]:
    folder = lake_dir / table
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{uuid.uuid4().hex}.parquet"
    rows = _scalar(
        cur,
        f"copy ({_select(table)} from {table}) to {_sql_str(str(tmp))} (format parquet, compression zstd)",
    )
    final = folder / f"snapshot-{seq}.parquet"
    staged.append((tmp, final))
    return {"kind": "snapshot", "rows": int(rows), "file": final.relative_to(lake_dir).as_posix()}


def _stage_append_table(
    cur: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    table: str,
    seq: int,
    timezone: str,
    before: dict[str, Any] | None,
    staged: list[tuple[Path, Path]],
) -> dict[str, Any]:
    high_water = int(before["high_water_seq"]) if before else 0
    files: list[dict[str, Any]] = list(before["files"]) if before else []
    total = int(before["rows"]) if before else 0
    added_files: list[dict[str, Any]] = []
    if seq > high_water:
        window = f"t.commit_seq > {high_water} and t.commit_seq <= {seq}"
        day = f"(c.committed_at at time zone {_sql_str(timezone)})::date"
        joined = f"from {table} t join commits c on c.commit_seq = t.commit_seq where {window}"
        counts = cur.execute(f"select {day} as day, count(*) {joined} group by 1 order by 1").fetchall()
        if counts:
            tmp_dir = lake_dir / table / f".tmp-{uuid.uuid4().hex}"
            tmp_dir.mkdir(parents=True)
            columns = _select(table).replace("select *", "select t.*", 1)
            cur.execute(
                f"copy ({columns}, {day} as day {joined}) to {_sql_str(str(tmp_dir))} "
                "(format parquet, compression zstd, partition_by (day), filename_pattern 'part_{i}')"
            )
            name = f"part-{high_water + 1}-{seq}"
            for day_value, n in counts:
                part_dir = tmp_dir / f"day={day_value.isoformat()}"
                written = sorted(part_dir.glob("*.parquet"))
                if not written:
                    raise RuntimeError(f"export of {table}: no file for day {day_value}")
                for k, tmp in enumerate(written):
                    # Should DuckDB ever split a day in several files, the day's rows count on the first.
                    suffix = "" if k == 0 else f"-{k}"
                    final = lake_dir / table / part_dir.name / f"{name}{suffix}.parquet"
                    staged.append((tmp, final))
                    added_files.append(
                        {
                            "path": final.relative_to(lake_dir).as_posix(),
                            "day": day_value.isoformat(),
                            "from_seq": high_water + 1,
                            "to_seq": seq,
                            "rows": int(n) if k == 0 else 0,
                        }
                    )
    rows_added = sum(f["rows"] for f in added_files)
    return {
        "kind": "append",
        "high_water_seq": seq,
        "rows": total + rows_added,
        "rows_added": rows_added,
        "files_added": len(added_files),
        "files": files + added_files,
    }


def _publish_manifest(lake_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = lake_dir / f".tmp-{uuid.uuid4().hex}{MANIFEST}"
    try:
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, lake_dir / MANIFEST)
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove_unlisted(lake_dir: Path, manifest: dict[str, Any] | None) -> None:
    """Delete table files the manifest does not list: a failed export's, and superseded snapshots."""
    listed: set[str] = set()
    for entry in (manifest or {}).get("tables", {}).values():
        if entry["kind"] == "snapshot":
            listed.add(entry["file"])
        else:
            listed.update(f["path"] for f in entry["files"])
    for table in (*SNAPSHOT_TABLES, *APPEND_TABLES):
        folder = lake_dir / table
        if not folder.is_dir():
            continue
        for path in (*folder.glob("snapshot-*.parquet"), *folder.glob("day=*/part-*.parquet")):
            if path.relative_to(lake_dir).as_posix() not in listed:
                path.unlink()
        for tmp in folder.glob(".tmp-*"):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink()
    for tmp in lake_dir.glob(f".tmp-*{MANIFEST}"):
        tmp.unlink()
