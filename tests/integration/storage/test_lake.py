"""The lake's raw-layer export on a real store file: files, counts, increments, secrets, crash safety."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.integration.conftest import ADMIN
from tests.integration.services.order_fixtures import NY_ADDRESS, STOREFRONT, Catalogue, pay, run, seed
from transactional.domain.clock import ManualClock
from transactional.services import orders as orders_svc
from transactional.services import payment_flow as flow
from transactional.storage import lake
from transactional.storage.tables import TABLES
from transactional.storage.writer import Writer

TZ = "America/New_York"


@pytest.fixture
def cat(writer: Writer) -> Catalogue:
    return run(writer, seed, ADMIN)  # type: ignore[no-any-return]


def place_and_pay(writer: Writer, cat: Catalogue) -> str:
    cmd = orders_svc.PlaceOrder.model_validate(
        {
            "sales_channel": "web",
            "guest_email": "guest@example.com",
            "shipping_address": NY_ADDRESS,
            "lines": [{"sku_id": cat.sku["A"], "quantity": 1}],
        }
    )
    order_id: str = flow.execute(writer, lambda uow: orders_svc.place_order(uow, cmd), STOREFRONT).body[
        "order_id"
    ]
    pay(writer, order_id)
    return order_id


def export(writer: Writer, lake_dir: Path) -> dict[str, Any]:
    return lake.export_snapshot(writer.con.cursor(), lake_dir, timezone=TZ)


def lake_rows(lake_dir: Path, manifest: dict[str, Any], table: str) -> list[tuple[Any, ...]]:
    """Rows of a table as a manifest-trusting reader sees them."""
    entry = manifest["tables"][table]
    paths = [entry["file"]] if entry["kind"] == "snapshot" else [f["path"] for f in entry["files"]]
    if not paths:
        return []
    files = ", ".join(f"'{lake_dir / p}'" for p in paths)
    return duckdb.sql(f"select * from read_parquet([{files}], union_by_name = true)").fetchall()


def count(writer: Writer, table: str, where: str = "true") -> int:
    row = writer.con.execute(f"select count(*) from {table} where {where}").fetchone()
    assert row is not None
    return int(row[0])


def test_first_export_writes_every_table_consistently(writer: Writer, cat: Catalogue, tmp_path: Path) -> None:
    place_and_pay(writer, cat)
    lake_dir = tmp_path / "lake"
    manifest = export(writer, lake_dir)

    seq = writer.state.commit_seq
    assert manifest["commit_seq"] == seq
    assert lake.read_manifest(lake_dir) == {k: v for k, v in manifest.items() if k != "duration_ms"}
    db_tables = {r[0] for r in writer.con.execute("select table_name from duckdb_tables()").fetchall()}
    assert set(manifest["tables"]) == db_tables - {"schema_migrations", *lake.EXCLUDED_TABLES}
    assert set(manifest["tables"]) <= set(TABLES)
    for table, entry in manifest["tables"].items():
        assert entry["rows"] == count(writer, table), table
        assert len(lake_rows(lake_dir, manifest, table)) == entry["rows"], table
        if entry["kind"] == "snapshot":
            assert entry["file"] == f"{table}/snapshot-{seq}.parquet"
        else:
            assert TABLES[table].residency == "append"
            assert entry["high_water_seq"] == seq
            for f in entry["files"]:
                assert f["path"] == f"{table}/day={f['day']}/part-1-{seq}.parquet"
    # 09:00 UTC is 04:00 in New York: the commits' store-local day.
    assert {f["day"] for f in manifest["tables"]["ledger_lines"]["files"]} == {"2026-03-02"}
    assert not list(lake_dir.rglob(".tmp-*"))


def test_secrets_never_reach_the_lake(writer: Writer, cat: Catalogue, tmp_path: Path) -> None:
    place_and_pay(writer, cat)
    lake_dir = tmp_path / "lake"
    manifest = export(writer, lake_dir)
    assert not (lake_dir / "server_secrets").exists()
    assert not (lake_dir / "idempotency_keys").exists()
    for table, column in (
        ("api_keys", "secret_sha256"),
        ("orders", "access_token_sha256"),
        ("payments", "token"),
    ):
        path = lake_dir / manifest["tables"][table]["file"]
        columns = {r[0] for r in duckdb.sql(f"describe select * from '{path}'").fetchall()}
        assert column not in columns and "commit_seq" in columns, table
    # No secret value turns up anywhere in the lake's bytes either.
    secrets = [r[0] for r in writer.con.execute("select value from server_secrets").fetchall()]
    secrets += [r[0] for r in writer.con.execute("select access_token_sha256 from orders").fetchall()]
    blob = b"".join(p.read_bytes() for p in lake_dir.rglob("*.parquet"))
    assert secrets and not any(s.encode() in blob for s in secrets)


def test_second_export_is_incremental_and_grouped_by_commit_day(
    writer: Writer, cat: Catalogue, clock: ManualClock, tmp_path: Path
) -> None:
    first_order = place_and_pay(writer, cat)
    lake_dir = tmp_path / "lake"
    first = export(writer, lake_dir)
    hw = first["commit_seq"]

    clock.advance(timedelta(days=1))
    second_order = place_and_pay(writer, cat)
    second = export(writer, lake_dir)
    seq = writer.state.commit_seq
    assert second["commit_seq"] == seq > hw
    assert second["previous_snapshot_id"] == first["snapshot_id"]
    history = second["tables"]["order_status_history"]
    new_files = history["files"][len(first["tables"]["order_status_history"]["files"]) :]
    assert [f["path"] for f in new_files] == [
        f"order_status_history/day=2026-03-03/part-{hw + 1}-{seq}.parquet"
    ]
    in_new = duckdb.sql(
        f"select distinct order_id, commit_seq from '{lake_dir / new_files[0]['path']}'"
    ).fetchall()
    assert {r[0] for r in in_new} == {second_order} and all(hw < r[1] <= seq for r in in_new)
    assert history["rows_added"] == count(writer, "order_status_history", f"commit_seq > {hw}")
    for table in second["tables"]:
        assert len(lake_rows(lake_dir, second, table)) == count(writer, table), table
    orders = {r[0] for r in lake_rows(lake_dir, second, "orders")}
    assert orders == {first_order, second_order}
    # The superseded whole-table files are gone, the new ones listed.
    assert sorted(p.name for p in (lake_dir / "orders").glob("*.parquet")) == [f"snapshot-{seq}.parquet"]

    third = export(writer, lake_dir)
    assert third["commit_seq"] == seq
    for table, entry in third["tables"].items():
        if entry["kind"] == "append":
            assert entry["rows_added"] == entry["files_added"] == 0, table
            assert entry["files"] == second["tables"][table]["files"]
    parts = sorted(p.relative_to(lake_dir) for p in lake_dir.rglob("part-*.parquet"))
    listed = sorted(
        Path(f["path"]) for e in third["tables"].values() if e["kind"] == "append" for f in e["files"]
    )
    assert parts == listed


def test_a_failed_publish_leaves_the_previous_manifest_valid(
    writer: Writer, cat: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    place_and_pay(writer, cat)
    lake_dir = tmp_path / "lake"
    first = export(writer, lake_dir)
    first.pop("duration_ms")
    place_and_pay(writer, cat)

    real_replace = os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        if Path(dst).name == lake.MANIFEST:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(lake.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        export(writer, lake_dir)
    monkeypatch.undo()

    # The previous manifest is still the one published, and every file it lists reads as before.
    assert lake.read_manifest(lake_dir) == first
    for table, entry in first["tables"].items():
        assert len(lake_rows(lake_dir, first, table)) == entry["rows"], table
    assert not list(lake_dir.glob(".tmp-*"))

    # The next export starts from the published high-water mark: nothing missed, nothing twice.
    after = export(writer, lake_dir)
    for table in after["tables"]:
        assert len(lake_rows(lake_dir, after, table)) == count(writer, table), table
    ids = [r[0] for r in lake_rows(lake_dir, after, "ledger_postings")]
    assert len(ids) == len(set(ids))
    parts = {p.relative_to(lake_dir).as_posix() for p in lake_dir.rglob("part-*.parquet")}
    assert parts == {f["path"] for e in after["tables"].values() if e["kind"] == "append" for f in e["files"]}


def test_one_export_at_a_time(writer: Writer, cat: Catalogue, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    with lake._exclusive(lake_dir), pytest.raises(lake.SnapshotRunning) as raised:
        export(writer, lake_dir)
    assert raised.value.code == "snapshot_running"
    assert lake.read_manifest(lake_dir) is None
