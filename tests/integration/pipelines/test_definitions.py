"""The pipeline's one Definitions loads, and its graph is what the architecture says."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pytest

from transactional.storage import lake


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions) -> Any:
    return defs.resolve_asset_graph()


def _manifest_models() -> set[str]:
    from pipelines.defs.warehouse.project import emporium_dbt

    manifest = json.loads(emporium_dbt.manifest_path.read_text())
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_every_store_table_every_dbt_model_publish_and_alerts_are_assets(graph: Any) -> None:
    keys = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    raw = {f"lake/{t}" for t in (*lake.SNAPSHOT_TABLES, *lake.APPEND_TABLES)}
    assert raw <= keys
    assert _manifest_models() <= keys
    assert {"published_marts", "inventory_alerts_posted"} <= keys
    assert keys == raw | _manifest_models() | {"published_marts", "inventory_alerts_posted"}


def test_dbt_sources_are_the_raw_assets_so_lineage_is_unbroken(graph: Any) -> None:
    orders_stg = graph.get(dg.AssetKey("stg_lake__orders"))
    assert dg.AssetKey(["lake", "orders"]) in orders_stg.parent_keys
    published = graph.get(dg.AssetKey("published_marts"))
    assert dg.AssetKey("mart_daily_sales") in published.parent_keys
    alerts = graph.get(dg.AssetKey("inventory_alerts_posted"))
    assert alerts.parent_keys == {dg.AssetKey("published_marts")}


def test_no_asset_is_partitioned_a_run_is_what_was_committed_since_the_last(graph: Any) -> None:
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def is None, key


def test_every_step_that_opens_the_warehouse_is_in_the_warehouse_pool(defs: dg.Definitions) -> None:
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if assets_def.is_materializable:
            assert all(op.pool == "warehouse" for op in assets_def.node_def.iterate_op_defs()), (
                assets_def.keys
            )


def test_checks_cover_raw_validation_dbt_tests_and_the_published_marts(graph: Any) -> None:
    checks = {f"{k.asset_key.to_user_string()}/{k.name}" for k in graph.asset_check_keys}
    for table in (*lake.SNAPSHOT_TABLES, *lake.APPEND_TABLES):
        assert f"lake/{table}/schema_valid" in checks
    assert {
        "published_marts/revenue_reconciles_to_ledger",
        "published_marts/facts_not_empty",
        "published_marts/snapshot_fresh",
    } <= checks
    # dbt's data tests arrive as checks on the models they test, singular identity tests included.
    assert any(c.startswith("fct_order_lines/") for c in checks)
    assert any("assert_sales_net_identity" in c for c in checks)


def test_jobs_run_in_process_schedules_and_the_sensor_exist(defs: dg.Definitions) -> None:
    for name in ("refresh_all", "refresh_from_lake"):
        job = defs.resolve_job_def(name)
        assert job.executor_def.name == dg.in_process_executor.name
    refresh_from_lake = defs.resolve_job_def("refresh_from_lake")
    assert not any(k.path[0] == "lake" for k in refresh_from_lake.asset_layer.executable_asset_keys)
    assert {s.name for s in defs.schedules or []} == {"daily_refresh", "hourly_refresh"}
    assert {s.name for s in defs.sensors or []} == {"new_snapshot_sensor"}
