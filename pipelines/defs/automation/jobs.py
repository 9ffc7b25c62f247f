"""Jobs: the whole pipeline, and the part downstream of the raw layer for when a snapshot already landed.

Both run in process: the steps that open the warehouse must never run side by
side (dbt holds its lock), and one process also saves the per-step start-up.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.raw.assets import RAW_GROUP

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Snapshot the store → validate → dbt build → publish the marts → post inventory alerts.",
)

refresh_from_lake = dg.define_asset_job(
    "refresh_from_lake",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    executor_def=dg.in_process_executor,
    description="dbt build → publish → alerts on the lake's current snapshot (it landed by another path).",
)
