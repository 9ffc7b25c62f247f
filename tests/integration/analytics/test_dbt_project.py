"""The dbt project builds on a real demo store's lake, and its sales marts agree with the store.

One small demo store (12 days: the shortest seed-3 period whose customers
already made both refunds by lines and amount-only refunds) is built, exported to the lake and run through
``dbt build`` (models, data tests, unit tests, the metric-identity tests) in a
subprocess, as the pipeline will. The marts are then checked against figures
computed independently: the simulator's ground truth (BEY-10) and plain SQL on
the store file itself, to the cent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from transactional.demo.build import GROUND_TRUTH, BuildOptions, build_demo
from transactional.storage import lake
from transactional.storage.database import STORE_FILE

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / "dbt_project"
TIMEZONE = "America/New_York"


def _dbt(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_TARGET_PATH": str(data_dir / "dbt-target"),
        "DBT_LOG_PATH": str(data_dir / "dbt-logs"),
        "EMPORIUM_LAKE": str(data_dir / "lake"),
        "EMPORIUM_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
    }
    return subprocess.run(
        [str(venv_bin / "dbt"), *args, "--project-dir", str(PROJECT)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-day demo store, its lake, and a warehouse built by ``dbt build``."""
    data_dir = tmp_path_factory.mktemp("dbt")
    build_demo(BuildOptions(data_dir, days=12, end_date=date(2026, 11, 14), seed=3))
    con = duckdb.connect(str(data_dir / STORE_FILE))
    try:
        lake.export_snapshot(con.cursor(), data_dir / "lake", timezone=TIMEZONE)
    finally:
        con.close()
    result = _dbt(["build"], data_dir)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "SKIP=0" in result.stdout
    return data_dir


def _warehouse(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _truth(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / GROUND_TRUTH).read_text())  # type: ignore[no-any-return]


def test_daily_sales_match_the_ground_truth_to_the_cent(built: Path) -> None:
    truth = _truth(built)
    totals = _warehouse(
        built,
        "select sum(gross_minor), sum(units), sum(discount_minor), sum(tax_minor), sum(shipping_minor),"
        " sum(orders), sum(returns_minor) from mart_daily_sales",
    )[0]
    t = truth["totals"]
    assert t["orders_paid"] > 0
    expected = (
        t["gross_minor"],
        t["units"],
        t["discount_minor"],
        t["tax_minor"],
        t["shipping_minor"],
        t["orders_paid"],
        t["returns_minor"],
    )
    assert tuple(int(v) for v in totals) == expected
    # Day by day too: a sale is dated by the store-local day the order became paid.
    # Day by day too: a sale is dated by the store-local day the order became paid, a return by
    # the day its refund succeeded.
    daily = _warehouse(built, "select sale_date, gross_minor, units, returns_minor from mart_daily_sales")
    for day, gross, units, returns in daily:
        want = truth["days"][day.isoformat()]
        assert (gross, units, returns) == (want["gross_minor"], want["units"], want["returns_minor"]), day


def test_the_store_has_both_kinds_of_returns(built: Path) -> None:
    """Refunds by lines and amount-only refunds both reach fct_returns, so the tests above cover them."""
    kinds = dict(_warehouse(built, "select is_by_lines, count(*) from fct_returns group by 1"))
    assert kinds.get(True, 0) > 0 and kinds.get(False, 0) > 0, kinds


def test_net_sales_match_plain_sql_on_the_store(built: Path) -> None:
    """Net = paid orders' line gross − discounts − succeeded refunds' revenue, straight from the store file."""
    store = duckdb.connect(str(built / STORE_FILE), read_only=True)
    try:
        row = store.execute(
            """
            select
                (select sum(l.gross_minor - l.discount_minor)
                 from order_lines l join orders o using (order_id)
                 where o.paid_at is not null and l.status <> 'removed')
                - (select coalesce(sum(revenue_minor), 0) from refunds where status = 'succeeded')
            """
        ).fetchone()
    finally:
        store.close()
    assert row is not None
    mart_net, lines_net, returns_unattributed = _warehouse(
        built,
        "select (select sum(net_minor) from mart_daily_sales), (select sum(net_minor) from fct_order_lines),"
        " (select coalesce(sum(returns_minor), 0) from fct_returns where order_line_id is null)",
    )[0]
    assert mart_net == row[0]
    assert lines_net - returns_unattributed == row[0]
