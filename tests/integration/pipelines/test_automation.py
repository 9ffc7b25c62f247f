"""Schedules pick the right store-local day; the sensor runs once per snapshot that landed by another path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
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


def _dbt_config(request: dg.RunRequest) -> dict[str, Any]:
    return dict(request.run_config["ops"]["emporium_dbt_models"]["config"])


def test_hourly_refresh_takes_new_commits_without_full_history_tests(defs: dg.Definitions) -> None:
    from pipelines.defs.automation.schedules import hourly_refresh

    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 20, 3, 5, tzinfo=UTC)
    ) as context:
        request = hourly_refresh(context)
    assert _dbt_config(request) == {"full_history_tests": False, "unit_tests": False}
    assert defs.resolve_schedule_def("hourly_refresh").cron_schedule == "5 * * * *"


def test_daily_refresh_rebuilds_the_last_late_days_of_the_store_day_that_ended(defs: dg.Definitions) -> None:
    from pipelines.defs.automation.schedules import TIMEZONE, daily_refresh

    # 04:30 UTC on the 20th is still the 19th in New York (the demo store's zone): yesterday is the 18th.
    at = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    yesterday = at.astimezone(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)
    with dg.build_schedule_context(scheduled_execution_time=at) as context:
        request = daily_refresh(context)
    assert _dbt_config(request) == {
        "refresh_from": (yesterday - timedelta(days=2)).isoformat(),
        "refresh_to": yesterday.isoformat(),
    }
    if TIMEZONE == "America/New_York":
        assert yesterday.isoformat() == "2026-11-18"
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "30 0 * * *"


def test_run_config_becomes_dbt_arguments_and_bad_days_are_refused() -> None:
    from pipelines.defs.warehouse.dbt import RefreshConfig, dbt_args

    assert dbt_args(RefreshConfig()) == ["build"]
    assert dbt_args(RefreshConfig(refresh_from="2026-11-01", refresh_to="2026-11-03", full_history_tests=False)) == [
        "build", "--vars", '{"refresh_from":"2026-11-01","refresh_to":"2026-11-03"}', "--exclude", "tag:full_history",
    ]  # fmt: skip
    assert (
        dbt_args(RefreshConfig(refresh_from="2026-11-01"))[2]
        == '{"refresh_from":"2026-11-01","refresh_to":"2026-11-01"}'
    )
    assert dbt_args(RefreshConfig(full_refresh=True)) == ["build", "--full-refresh"]
    assert dbt_args(RefreshConfig(unit_tests=False)) == ["build", "--exclude-resource-type", "unit_test"]
    for bad in (
        RefreshConfig(refresh_from="2026-11-31"),
        RefreshConfig(refresh_from="yesterday"),
        RefreshConfig(refresh_from="2026-11-05", refresh_to="2026-11-01"),
        RefreshConfig(refresh_to="2026-11-01"),
    ):
        with pytest.raises(ValueError):
            dbt_args(bad)


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
