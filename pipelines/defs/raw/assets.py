"""The raw layer: one multi-asset takes one consistent snapshot of every store table into the lake.

One call for all tables is what makes them consistent with each other (one read
transaction in the server), so the tables are one multi-asset that cannot be
subset. Each table is then validated by its pandera schema; failing rows go to
the lake's quarantine with the reason, and the table's blocking check fails,
which stops dbt from building on them in the same run.
"""

from typing import Any

import dagster as dg

from pipelines.raw.quarantine import validate_snapshot
from pipelines.resources import StoreResource
from transactional.storage import lake

RAW_TABLES = (*lake.SNAPSHOT_TABLES, *lake.APPEND_TABLES)
RAW_GROUP = "raw"


def raw_key(table: str) -> dg.AssetKey:
    """The asset key of a lake table; dagster-dbt maps the dbt source ``lake.<table>`` to the same key."""
    return dg.AssetKey(["lake", table])


def _spec(table: str) -> dg.AssetSpec:
    kind = (
        "journal, exported past a high-water commit sequence" if table in lake.APPEND_TABLES else "snapshot"
    )
    return dg.AssetSpec(
        raw_key(table),
        group_name=RAW_GROUP,
        description=f"Store table `{table}` in the Parquet lake ({kind}).",
        kinds={"parquet"},
        skippable=False,
    )


def _check(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "schema_valid",
        asset=raw_key(table),
        blocking=True,
        description="Every row of this snapshot passes the table's pandera schema; failures are quarantined.",
    )


@dg.multi_asset(
    name="lake_snapshot",
    specs=[_spec(t) for t in RAW_TABLES],
    check_specs=[_check(t) for t in RAW_TABLES],
    can_subset=False,
    pool="warehouse",
)
def lake_snapshot(context: dg.AssetExecutionContext, store: StoreResource) -> Any:
    """Snapshot the store into the lake (through the server, or from the file if none runs) and validate it."""
    snapshot = store.take_snapshot()
    manifest = snapshot.manifest
    # Lets the new-snapshot sensor tell this run's snapshot from one that landed by another path.
    context.instance.add_run_tags(context.run_id, {"emporium/snapshot": manifest["snapshot_id"]})
    context.log.info(
        f"snapshot {manifest['snapshot_id']} at commit {manifest['commit_seq']} via {snapshot.via} "
        f"in {manifest.get('duration_ms', 0):.0f} ms"
    )
    validation = validate_snapshot(store.lake_path, manifest)
    for table in RAW_TABLES:
        entry = manifest["tables"][table]
        metadata: dict[str, Any] = {
            "snapshot_id": manifest["snapshot_id"],
            "commit_seq": manifest["commit_seq"],
            "via": snapshot.via,
            "rows": entry["rows"],
        }
        if entry["kind"] == "append":
            metadata["rows_added"] = entry["rows_added"]
            metadata["high_water_seq"] = entry["high_water_seq"]
        yield dg.MaterializeResult(asset_key=raw_key(table), metadata=metadata)
    for table in RAW_TABLES:
        result = validation.tables[table]
        check_metadata: dict[str, Any] = {
            "rows_checked": result.rows_checked,
            "rows_failed": result.rows_failed,
            "elapsed_ms": result.elapsed_ms,
        }
        if result.quarantine_file is not None:
            check_metadata["quarantine"] = dg.MetadataValue.path(str(result.quarantine_file))
        yield dg.AssetCheckResult(
            asset_key=raw_key(table),
            check_name="schema_valid",
            passed=result.rows_failed == 0,
            metadata=check_metadata,
        )
