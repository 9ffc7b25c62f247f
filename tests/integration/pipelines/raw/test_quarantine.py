"""validate_snapshot on a real demo lake: clean passes, corrupted rows land in quarantine, increments."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines.raw.quarantine import META_COLUMNS, quarantine_path, validate_snapshot
from transactional.demo.build import BuildOptions, build_demo
from transactional.storage import lake
from transactional.storage.database import STORE_FILE

TIMEZONE = "America/New_York"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-day demo store and its first lake snapshot (tests copy it before changing anything)."""
    data_dir = tmp_path_factory.mktemp("raw")
    build_demo(BuildOptions(data_dir, days=3, end_date=date(2026, 11, 14), seed=3))
    con = duckdb.connect(str(data_dir / STORE_FILE))
    try:
        lake.export_snapshot(con.cursor(), data_dir / "lake", timezone=TIMEZONE)
    finally:
        con.close()
    return data_dir


def copy_lake(store: Path, to: Path) -> tuple[Path, dict[str, Any]]:
    target = to / "lake"
    shutil.copytree(store / "lake", target)
    manifest = lake.read_manifest(target)
    assert manifest is not None
    return target, manifest


def digests(lake_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(lake_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in lake_dir.rglob("*.parquet")
        if "_quarantine" not in p.parts
    }


def test_demo_lake_passes_every_table(store: Path, tmp_path: Path) -> None:
    lake_dir, manifest = copy_lake(store, tmp_path)
    result = validate_snapshot(lake_dir, manifest)
    assert set(result.tables) == set(lake.SNAPSHOT_TABLES) | set(lake.APPEND_TABLES)
    bad = {t: v.failures for t, v in result.tables.items() if not v.passed}
    assert bad == {}
    assert result.passed and result.rows_failed == 0
    for table, entry in manifest["tables"].items():
        v = result.tables[table]
        assert v.quarantine_file is None
        assert v.rows_checked == (entry["rows"] if entry["kind"] == "snapshot" else entry["rows_added"])
        assert v.checks_run > 0 or v.rows_checked == 0
    assert result.rows_checked > 100_000
    assert not (lake_dir / "_quarantine").exists() or not any((lake_dir / "_quarantine").rglob("*.parquet"))


def test_corrupted_rows_are_quarantined_with_reasons(store: Path, tmp_path: Path) -> None:
    lake_dir, manifest = copy_lake(store, tmp_path)
    path = lake_dir / manifest["tables"]["order_lines"]["file"]
    lines = pl.read_parquet(path)
    ids = lines["order_line_id"].to_list()
    corrupt = lines.with_columns(
        order_line_id=pl.Series([None, *ids[1:3], ids[4], *ids[4:]]),  # row 0 null key, rows 3/4 duplicate
        quantity=pl.when(pl.int_range(pl.len()) == 1).then(-1).otherwise(pl.col("quantity")),
        status=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("teleported")).otherwise(pl.col("status")),
    )
    corrupt.write_parquet(path)
    before = digests(lake_dir)

    result = validate_snapshot(lake_dir, manifest)

    assert digests(lake_dir) == before  # nothing is dropped or rewritten in the lake
    v = result.tables["order_lines"]
    assert not result.passed
    assert v.rows_checked == lines.height and v.rows_failed == 5
    assert v.quarantine_file == quarantine_path(lake_dir, "order_lines", manifest["commit_seq"])
    assert all(t.passed for name, t in result.tables.items() if name != "order_lines")
    q = pl.read_parquet(v.quarantine_file)
    assert q.columns == [*lines.columns, *META_COLUMNS]
    # exactly the corrupted rows, each with its original columns
    assert set(q.drop(META_COLUMNS).unique().rows()) == set(corrupt.head(5).rows())
    found = {((line_no, order_id), check, column) for line_no, order_id, check, column in q.select(
        "line_no", "order_id", "_check", "_column").iter_rows()}  # fmt: skip
    expect_rows = corrupt.select("line_no", "order_id").rows()
    assert (expect_rows[0], "not_nullable", "order_line_id") in found
    assert (expect_rows[1], "positive", "quantity") in found
    assert (expect_rows[2], "in_order_line_statuses", "status") in found
    assert (expect_rows[3], "field_uniqueness", "order_line_id") in found
    assert (expect_rows[4], "field_uniqueness", "order_line_id") in found
    reasons = dict(zip(q["_check"], q["_reason"], strict=True))
    assert reasons["positive"] == "quantity: must be > 0; got -1"
    assert reasons["in_order_line_statuses"] == "status: must be one of active, removed; got teleported"
    assert reasons["not_nullable"].startswith("order_line_id: is null")


def test_second_snapshot_validates_only_new_journal_files(store: Path, tmp_path: Path) -> None:
    lake_dir, first = copy_lake(store, tmp_path)
    shutil.copy(store / STORE_FILE, tmp_path / STORE_FILE)
    con = duckdb.connect(str(tmp_path / STORE_FILE))
    try:
        # Stand in for the writer: one more commit with two audit rows.
        seq = first["commit_seq"] + 1
        con.execute("insert into commits values (?, now(), 1)", [seq])
        con.execute(
            "insert into audit_log (audit_id, occurred_at, action, target_type, commit_seq) "
            "values ('aud_new1', now(), 'test.one', 'test', ?), ('aud_new2', now(), 'test.two', 'test', ?)",
            [seq, seq],
        )
        second = lake.export_snapshot(con.cursor(), lake_dir, timezone=TIMEZONE)
    finally:
        con.close()
    assert second["commit_seq"] == seq

    result = validate_snapshot(lake_dir, second)

    assert result.passed
    assert result.tables["audit_log"].rows_checked == 2
    assert result.tables["commits"].rows_checked == 1
    for table in lake.APPEND_TABLES:
        if table not in ("audit_log", "commits"):
            assert result.tables[table].rows_checked == 0, table
            assert result.tables[table].checks_run == 0
    assert result.tables["orders"].rows_checked == second["tables"]["orders"]["rows"]
