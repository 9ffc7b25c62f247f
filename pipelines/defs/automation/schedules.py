"""Schedules: a nightly refresh that re-derives the last days with every test, and an hourly one.

Both run the whole pipeline (snapshot → dbt → publish → alerts). The hourly run
takes what was committed since the last run and skips the tests that scan the
whole event history; the nightly run rebuilds the last LATE_DAYS days (events
arrive up to 72 h late) and runs every test.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.automation.jobs import refresh_all
from pipelines.resources import store_timezone

TIMEZONE = store_timezone()
LATE_DAYS = 3
DBT_OP = "emporium_dbt_models"


def _store_now(context: dg.ScheduleEvaluationContext) -> datetime:
    zone = ZoneInfo(TIMEZONE)
    return (context.scheduled_execution_time or datetime.now(zone)).astimezone(zone)


# Half past midnight store time: yesterday is complete (late storefront events keep
# landing for up to 72 h; the incremental models re-read that window every run).
@dg.schedule(
    job=refresh_all,
    cron_schedule="30 0 * * *",
    execution_timezone=TIMEZONE,
    name="daily_refresh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Once the store-local day is over: rebuild its last LATE_DAYS days, with every test."""
    yesterday = (_store_now(context) - timedelta(days=1)).date()
    config = {
        "refresh_from": (yesterday - timedelta(days=LATE_DAYS - 1)).isoformat(),
        "refresh_to": yesterday.isoformat(),
    }
    return dg.RunRequest(
        run_key=f"daily-{yesterday}",
        run_config={"ops": {DBT_OP: {"config": config}}},
        tags={"emporium/refresh": "daily"},
    )


@dg.schedule(
    job=refresh_all,
    cron_schedule="5 * * * *",
    execution_timezone=TIMEZONE,
    name="hourly_refresh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Five minutes past every hour: what was committed since the last run, without full-history tests."""
    now = _store_now(context)
    return dg.RunRequest(
        run_key=f"hourly-{now.isoformat()}",
        run_config={"ops": {DBT_OP: {"config": {"full_history_tests": False, "unit_tests": False}}}},
        tags={"emporium/refresh": "hourly"},
    )
