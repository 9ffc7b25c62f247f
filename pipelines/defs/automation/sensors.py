"""A sensor that refreshes the marts when a snapshot lands in the lake by another path.

`emporium lake snapshot`, a cron job or another client can take a snapshot
without Dagster; the sensor sees the manifest's new snapshot id and runs
everything downstream of the raw layer on it, once per snapshot (the run key).
"""

import dagster as dg

from pipelines.defs.automation.jobs import refresh_from_lake
from pipelines.resources import StoreResource
from transactional.storage import lake


@dg.sensor(
    job=refresh_from_lake,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs dbt → publish → alerts when the lake's manifest names a new snapshot.",
)
def new_snapshot_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    manifest = lake.read_manifest(store.lake_path)
    if manifest is None or manifest["snapshot_id"] == context.cursor:
        return dg.SensorResult(skip_reason="no new snapshot in the lake")
    # A snapshot taken by the pipeline itself is already being built by that run.
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(tags={"emporium/snapshot": manifest["snapshot_id"]}), limit=1
    )
    if runs:
        return dg.SensorResult(
            skip_reason="snapshot built by the run that took it", cursor=manifest["snapshot_id"]
        )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=manifest["snapshot_id"],
                run_config={
                    "ops": {
                        "emporium_dbt_models": {"config": {"full_history_tests": False, "unit_tests": False}}
                    }
                },
            )
        ],
        cursor=manifest["snapshot_id"],
    )
