"""Daily partitions: one per store-local day.

A partition names the days a run is responsible for refreshing in the marts.
The raw snapshot always covers the whole store (it is one consistent cut);
dbt receives the run's day range (``refresh_from``/``refresh_to``) and the
incremental models rebuild only those days. Every asset uses the same
definition with a single-run backfill policy, so a backfill of months is one
run, one snapshot and one dbt invocation, never one run per day.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.resources import DEFAULT_DATA_DIR
from transactional.storage import lake

# The first day the pipeline knows; days before any data simply have empty marts.
DEFAULT_START = "2026-01-01"


def store_timezone() -> str:
    """The store's zone: EMPORIUM_STORE_TIMEZONE, else the lake manifest's, else UTC.

    Partition definitions are fixed when the definitions load, so the zone is read
    from configuration or the lake's manifest, never from the store file (which the
    server holds).
    """
    configured = os.environ.get("EMPORIUM_STORE_TIMEZONE")
    if configured:
        return configured
    data_dir = Path(os.environ.get("EMPORIUM_DATA_DIR", str(DEFAULT_DATA_DIR)))
    lake_dir = Path(os.environ.get("EMPORIUM_LAKE_DIR", str(data_dir / "lake")))
    manifest = lake.read_manifest(lake_dir)
    return str(manifest["timezone"]) if manifest else "UTC"


daily = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("EMPORIUM_PIPELINE_START", DEFAULT_START),
    timezone=store_timezone(),
    end_offset=1,  # today's partition exists, so the hourly refresh can target it
)

single_run = dg.BackfillPolicy.single_run()
