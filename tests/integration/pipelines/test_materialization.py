"""The session's one materialization of every asset (tests/fixtures/warehouse.py), read back.

Every asset materialized and every check passed: the pandera checks of each
raw table, every dbt data test and unit test as asset checks, and the checks
on the published marts (reconciliation to the cent, facts, freshness).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.fixtures.warehouse import Materialization
from transactional.storage import lake


def test_every_asset_materialized_and_every_check_passed(materialized: Materialization) -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    expected = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert materialized.materialized == expected
    failed = sorted(name for name, passed in materialized.checks.items() if not passed)
    assert failed == []
    raw_checks = [c for c in materialized.checks if c.startswith("lake/")]
    assert len(raw_checks) == len(lake.SNAPSHOT_TABLES) + len(lake.APPEND_TABLES)
    assert len(materialized.checks) > 300  # dbt tests arrive as checks too


def test_the_raw_snapshot_was_taken_from_the_file_when_no_server_runs(materialized: Materialization) -> None:
    orders = materialized.metadata["lake/orders"]
    assert orders["via"] == "file"
    manifest = lake.read_manifest(materialized.data_dir / "lake")
    assert manifest is not None and orders["snapshot_id"] == manifest["snapshot_id"]
    assert orders["rows"] == manifest["tables"]["orders"]["rows"] > 0
    assert not (materialized.data_dir / "lake" / "_quarantine").exists()


def test_the_published_file_names_its_snapshot_and_holds_every_mart(
    materialized: Materialization, published_marts: Path
) -> None:
    manifest = lake.read_manifest(materialized.data_dir / "lake")
    assert manifest is not None
    con = duckdb.connect(str(published_marts), read_only=True)
    try:
        publication = con.execute(
            "select snapshot_id, commit_seq, store_timezone from _publication"
        ).fetchone()
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    assert publication == (manifest["snapshot_id"], manifest["commit_seq"], manifest["timezone"])
    warehouse = duckdb.connect(str(materialized.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        marts = {
            r[0]
            for r in warehouse.execute(
                "select table_name from information_schema.tables where table_type = 'BASE TABLE' "
                "and (table_name like 'fct%' or table_name like 'mart%')"
            ).fetchall()
        }
    finally:
        warehouse.close()
    assert marts and marts | {"_publication"} == tables
    assert not any(t.startswith("int_") for t in tables)  # working state of incremental builds stays home
    meta = materialized.metadata["published_marts"]
    assert meta["snapshot_id"] == manifest["snapshot_id"] and meta["tables"] == len(marts)


def test_alerts_stay_in_the_marts_and_the_run_says_so_when_no_server_runs(
    materialized: Materialization,
) -> None:
    meta = materialized.metadata["inventory_alerts_posted"]
    assert meta["posted"] is False
    assert "no server" in meta["note"]
    con = duckdb.connect(str(materialized.data_dir / "marts.duckdb"), read_only=True)
    try:
        count = con.execute("select count(*) from mart_inventory_alerts").fetchone()
    finally:
        con.close()
    assert count is not None and meta["alerts"] == count[0] > 0
