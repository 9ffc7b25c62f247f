"""The one Definitions of the Emporium pipeline: `dagster dev -m pipelines.definitions`.

raw (lake_snapshot: one consistent snapshot, pandera checks) → dbt models and
tests (staging, intermediate, marts by area) → published_marts (the file
dashboards read) → inventory_alerts_posted (reverse ETL to the API).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.defs.automation.jobs import refresh_all, refresh_from_lake
from pipelines.defs.automation.schedules import daily_refresh, hourly_refresh
from pipelines.defs.automation.sensors import new_snapshot_sensor
from pipelines.defs.inventory.alerts import inventory_alerts_posted
from pipelines.defs.raw.assets import lake_snapshot
from pipelines.defs.warehouse.dbt import emporium_dbt_models
from pipelines.defs.warehouse.project import DBT_EXECUTABLE, DBT_PROJECT_DIR, emporium_dbt
from pipelines.defs.warehouse.publish import published_marts
from pipelines.resources import from_environment


def build_definitions(resources: dict[str, Any] | None = None) -> dg.Definitions:
    """Assets, checks, jobs, schedules and the sensor, with resources configured from EMPORIUM_* variables
    (``resources`` replaces some, e.g. a test's data dir)."""
    return dg.Definitions(
        assets=[lake_snapshot, emporium_dbt_models, published_marts, inventory_alerts_posted],
        jobs=[refresh_all, refresh_from_lake],
        schedules=[daily_refresh, hourly_refresh],
        sensors=[new_snapshot_sensor],
        resources={
            **from_environment(),
            "dbt": DbtCliResource(
                project_dir=emporium_dbt, dbt_executable=DBT_EXECUTABLE, profiles_dir=str(DBT_PROJECT_DIR)
            ),
            **(resources or {}),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions()
