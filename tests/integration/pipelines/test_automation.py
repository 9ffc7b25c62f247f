"""Schedules pick the right store-local day; the sensor runs once per snapshot that landed by another path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import orjson
import pytest

from pipelines.resources import StoreResource


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.definitions import defs

    return defs


def _write_manifest(lake_dir: Path, snapshot_id: str) -> None:
    lake_dir.mkdir(parents=True, exist_ok=True)
    (lake_dir / "_manifest.json").write_bytes(
        orjson.dumps({"snapshot_id": snapshot_id, "commit_seq": 1, "timezone": "UTC", "tables": {}})
    )


def test_hourly_refresh_targets_today_in_the_store_zone(defs: dg.Definitions) -> None:
    from pipelines.defs.automation.schedules import hourly_refresh
    from pipelines.defs.partitions import daily

    # 03:05 UTC on the 20th is still the 19th in New York (the demo store's zone).
    at = datetime(2026, 11, 20, 3, 5, tzinfo=UTC)
    with dg.build_schedule_context(scheduled_execution_time=at) as context:
        request = hourly_refresh(context)
    expected = at.astimezone(ZoneInfo(daily.timezone)).date().isoformat()
    assert request.partition_key == expected
    if daily.timezone == "America/New_York":
        assert expected == "2026-11-19"


def test_daily_refresh_targets_the_day_that_just_ended(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_refresh")
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with dg.build_schedule_context(
        scheduled_execution_time=at, repository_def=defs.get_repository_def()
    ) as ctx:
        data = schedule.evaluate_tick(ctx)
    assert [r.partition_key for r in data.run_requests or []] == ["2026-11-19"]
    assert schedule.cron_schedule == "30 0 * * *"


def test_sensor_requests_one_run_per_new_snapshot(tmp_path: Path) -> None:
    from pipelines.defs.automation.sensors import new_snapshot_sensor

    store = StoreResource(data_dir=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance, resources={"store": store}) as context:
        assert new_snapshot_sensor(context).skip_reason is not None  # no lake yet

    _write_manifest(tmp_path / "lake", "snap_a")
    with dg.build_sensor_context(instance=instance, resources={"store": store}) as context:
        result = new_snapshot_sensor(context)
    assert [r.run_key for r in result.run_requests] == ["snap_a"]
    assert result.cursor == "snap_a"

    with dg.build_sensor_context(instance=instance, cursor="snap_a", resources={"store": store}) as context:
        again = new_snapshot_sensor(context)
    assert not again.run_requests and again.skip_reason is not None

    _write_manifest(tmp_path / "lake", "snap_b")
    with dg.build_sensor_context(instance=instance, cursor="snap_a", resources={"store": store}) as context:
        assert [r.run_key for r in new_snapshot_sensor(context).run_requests] == ["snap_b"]
