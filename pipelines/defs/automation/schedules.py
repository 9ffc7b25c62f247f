"""Schedules: yesterday's final refresh once a day, and today's refresh every hour."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.automation.jobs import refresh_all
from pipelines.defs.partitions import daily


def _store_now(context: dg.ScheduleEvaluationContext) -> datetime:
    zone = ZoneInfo(daily.timezone)
    return (context.scheduled_execution_time or datetime.now(zone)).astimezone(zone)


# Half past midnight store time: yesterday is complete (late storefront events keep
# landing for up to 72 h; the incremental models re-read that window every run).
@dg.schedule(
    job=refresh_all,
    cron_schedule="30 0 * * *",
    execution_timezone=daily.timezone,
    name="daily_refresh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition, once the store-local day is over."""
    yesterday = (_store_now(context) - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=f"daily-{yesterday}", partition_key=yesterday)


@dg.schedule(
    job=refresh_all,
    cron_schedule="5 * * * *",
    execution_timezone=daily.timezone,
    name="hourly_refresh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Today's partition, five minutes past every hour."""
    now = _store_now(context)
    return dg.RunRequest(run_key=f"hourly-{now.isoformat()}", partition_key=now.date().isoformat())
