"""Paid orders cancelled by a card hold's expiry are returns of their sale ("cancellations").

A store of its own (the shared demo never lets a hold expire): a 3-day seed-3
demo ending on a Saturday, so the orders paid that afternoon wait for Monday's
dispatch; the store is then opened as a server would open it, 9 days later
on a ManualClock, and its due work runs until nothing is due, so those holds
expire (services/payments.py expire_authorizations: the order is cancelled,
its stock released, its hold released in the ledger). The lake is exported
and ``dbt build`` runs on it in a subprocess. The expected side is read from
the store file, never from the warehouse: which paid orders were cancelled,
when, and how much of their hold was voided.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.analytics.queries import from_store, from_warehouse
from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.demo.build import BuildOptions, build_demo
from transactional.domain.access import SYSTEM
from transactional.domain.clock import ManualClock
from transactional.services.due import run_due
from transactional.storage import lake

TIMEZONE = "America/New_York"
END = date(2026, 11, 14)  # a Saturday: the afternoon's paid orders wait for Monday's dispatch
REPO = Path(__file__).resolve().parents[3]
DBT_PROJECT = REPO / "dbt_project"


def _expire_holds(data_dir: Path, at: datetime) -> int:
    """Open the store at ``at`` as a server would and run its due work until nothing is due."""
    runtime = open_runtime(Settings(data_dir=data_dir), holder="test_cancellations", clock=ManualClock(at))
    try:
        expired = 0
        while True:
            body = runtime.writer.run(run_due, SYSTEM).body
            expired += body["authorizations_expired"]
            if not body["more_due"]:
                break
        with runtime.reader() as cur:
            lake.export_snapshot(cur, data_dir / "lake", timezone=TIMEZONE)
    finally:
        runtime.close()
    return expired


def _dbt_build(data_dir: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(DBT_PROJECT),
        "DBT_TARGET_PATH": str(data_dir / "dbt-target"),
        "DBT_LOG_PATH": str(data_dir / "dbt-logs"),
        "EMPORIUM_LAKE": str(data_dir / "lake"),
        "EMPORIUM_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
    }
    return subprocess.run(
        [str(bin_dir / "dbt"), "build"],
        cwd=DBT_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def expired_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime, int]:
    data_dir = tmp_path_factory.mktemp("cancellations")
    build_demo(BuildOptions(data_dir, days=3, end_date=END, seed=3))
    # 9 days after the last day's noon: every hold authorized in the period has run out (7 days).
    at = datetime(END.year, END.month, END.day, 12, tzinfo=ZoneInfo(TIMEZONE)) + timedelta(days=9)
    expired = _expire_holds(data_dir, at)
    build = _dbt_build(data_dir)
    assert build.returncode == 0, (build.stdout + build.stderr)[-6000:]
    return data_dir, at, expired


def test_paid_orders_cancelled_by_a_hold_expiry_are_cancellation_returns_on_that_day(
    expired_store: tuple[Path, datetime, int],
) -> None:
    data_dir, at, expired = expired_store
    # The store's own record: paid orders cancelled at the expiry, each with its voided hold.
    cancelled = {
        order_id: (total, voided, tax, shipping)
        for order_id, total, voided, tax, shipping in from_store(
            data_dir,
            "select o.order_id, o.total_minor, sum(p.voided_minor), o.tax_minor, o.shipping_minor"
            " from orders o join payments p using (order_id)"
            " where o.status = 'cancelled' and o.paid_at is not null and o.cancelled_at = ?"
            " group by all",
            [at.astimezone(UTC)],
        )
    }
    assert expired > 0 and len(cancelled) == expired, (expired, len(cancelled))
    # Nothing of them had shipped or been captured: the whole order came back.
    assert all(total == voided for total, voided, _, _ in cancelled.values())

    rows = from_warehouse(
        data_dir,
        "select order_id, min(return_date), max(return_date), bool_and(is_by_lines),"
        " sum(returns_minor), sum(returned_tax_minor)"
        " from fct_returns where return_kind = 'cancellation' group by 1",
    )
    day = at.astimezone(ZoneInfo(TIMEZONE)).date()
    assert {r[0] for r in rows} == set(cancelled)
    shipping = dict(from_warehouse(data_dir, "select order_id, shipping_minor from int_cancellations_dated"))
    for order_id, first, last, by_lines, returns, returned_tax in rows:
        total, voided, tax, ship = cancelled[order_id]
        assert (first, last, by_lines) == (day, day, True), order_id
        # Split like the ledger: revenue + tax + shipping = the voided hold, to the cent.
        assert (returned_tax, shipping[order_id]) == (tax, ship), order_id
        assert returns + returned_tax + shipping[order_id] == voided, order_id

    # That day's returns in the daily mart add up to fct_returns of that day, the cancellations included.
    [(daily_returns,)] = from_warehouse(
        data_dir, "select returns_minor from mart_daily_sales where sale_date = ?", [day]
    )
    [(fact_returns,)] = from_warehouse(
        data_dir, "select sum(returns_minor) from fct_returns where return_date = ?", [day]
    )
    assert daily_returns == fact_returns >= sum(r[4] for r in rows)


def test_the_reconciliation_matches_to_the_cent_after_the_cancellations(
    expired_store: tuple[Path, datetime, int],
) -> None:
    data_dir, _, _ = expired_store
    [(orders, differences, sales, ledger)] = from_warehouse(
        data_dir,
        "select count(*), count(*) filter (where status <> 'matched'),"
        " sum(sales_figure_minor), sum(ledger_figure_minor) from fct_order_reconciliation",
    )
    assert orders > 0 and differences == 0 and sales == ledger
    cancelled = from_warehouse(
        data_dir,
        "select sales_figure_minor, ledger_figure_minor, sales_cancelled_minor, sales_total_minor"
        " from fct_order_reconciliation where order_status = 'cancelled' and is_paid",
    )
    assert cancelled and all(row == (0, 0, row[3], row[3]) for row in cancelled)
    days_differing = from_warehouse(
        data_dir, "select count(*) from mart_revenue_reconciliation where status <> 'matched'"
    )
    assert days_differing == [(0,)]
