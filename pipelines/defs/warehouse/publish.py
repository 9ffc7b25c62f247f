"""Publish: after a green dbt build, the marts are copied into a new file renamed over the one dashboards read."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.defs.warehouse.dbt import emporium_dbt_models
from pipelines.publish import PUBLICATION_TABLE, publish_marts
from pipelines.resources import StoreResource, WarehouseResource
from transactional.storage import lake

MARTS_KEY = dg.AssetKey("published_marts")
# Fact tables that exist whenever the store has sold anything; empty means a broken build.
CORE_FACTS = ("fct_order_lines", "fct_payments", "fct_ledger_lines", "fct_stock_movements", "fct_sessions")


def _max_age() -> timedelta:
    return timedelta(hours=float(os.environ.get("EMPORIUM_MARTS_MAX_AGE_HOURS", "26")))


def _currency(store: StoreResource, manifest: dict[str, Any]) -> str | None:
    """The store's currency from the snapshot's store table (dashboards format money with it)."""
    path = store.lake_path / manifest["tables"]["store"]["file"]
    con = duckdb.connect()
    try:
        row = con.execute("select currency from read_parquet(?) limit 1", [str(path)]).fetchone()
    finally:
        con.close()
    return str(row[0]) if row else None


@dg.asset(
    key=MARTS_KEY,
    deps=[emporium_dbt_models],
    group_name="publish",
    description="data/marts.duckdb: every mart table of the last green build, renamed into place atomically.",
    pool="warehouse",
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            "revenue_reconciles_to_ledger",
            asset=MARTS_KEY,
            description="Every day of mart_revenue_reconciliation matches the ledger to the cent.",
        ),
        dg.AssetCheckSpec(
            "facts_not_empty",
            asset=MARTS_KEY,
            description="The core facts have rows whenever the lake holds paid orders.",
        ),
        dg.AssetCheckSpec(
            "snapshot_fresh",
            asset=MARTS_KEY,
            description="The published snapshot was taken within EMPORIUM_MARTS_MAX_AGE_HOURS (26 h).",
        ),
    ],
)
def published_marts(store: StoreResource, warehouse: WarehouseResource) -> Any:
    """Copy the warehouse's marts to a new file and rename it over the published one."""
    manifest = lake.read_manifest(store.lake_path)
    if manifest is None:
        raise RuntimeError(f"no lake manifest in {store.lake_path}: take a snapshot first")
    publication = publish_marts(
        Path(warehouse.warehouse_path),
        Path(warehouse.marts_path),
        manifest=manifest,
        currency=_currency(store, manifest),
    )
    yield dg.MaterializeResult(
        metadata={
            "publication_id": publication.publication_id,
            "snapshot_id": manifest["snapshot_id"],
            "commit_seq": manifest["commit_seq"],
            "tables": len(publication.tables),
            "rows": sum(publication.tables.values()),
            "bytes": publication.bytes,
            "duration_ms": publication.duration_ms,
            "path": dg.MetadataValue.path(str(publication.path)),
        }
    )
    with warehouse.read_marts() as con:
        differences = con.execute(
            "select count(*), coalesce(sum(abs(difference_minor)), 0) from mart_revenue_reconciliation "
            "where difference_minor <> 0 or status <> 'matched'"
        ).fetchone()
        days = con.execute("select count(*) from mart_revenue_reconciliation").fetchone()
        counts = {t: int(con.execute(f"select count(*) from {t}").fetchone()[0]) for t in CORE_FACTS}  # type: ignore[index]
        published = con.execute(f"select snapshot_created_at from {PUBLICATION_TABLE}").fetchone()
    assert differences is not None and days is not None and published is not None
    yield dg.AssetCheckResult(
        check_name="revenue_reconciles_to_ledger",
        passed=differences[0] == 0,
        metadata={
            "days": int(days[0]),
            "days_with_difference": int(differences[0]),
            "abs_difference_minor": int(differences[1]),
        },
    )
    has_sales = manifest["tables"]["orders"]["rows"] > 0
    yield dg.AssetCheckResult(
        check_name="facts_not_empty",
        passed=not has_sales or all(n > 0 for n in counts.values()),
        metadata={f"{t}_rows": n for t, n in counts.items()},
    )
    snapshot_at = datetime.fromisoformat(str(published[0])) if published[0] else None
    age = datetime.now(UTC) - snapshot_at if snapshot_at else None
    yield dg.AssetCheckResult(
        check_name="snapshot_fresh",
        passed=age is not None and age <= _max_age(),
        metadata={
            "age_minutes": round(age.total_seconds() / 60, 1) if age else -1.0,
            "max_age_hours": _max_age().total_seconds() / 3600,
        },
    )
