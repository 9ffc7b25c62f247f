"""The dbt project builds on a real demo store's lake, and its sales marts agree with the store.

The shared small demo store, its lake and warehouse (``built`` in conftest.py:
``dbt build`` with models, data tests, unit tests and the metric-identity
tests, once per session). The marts are then checked against figures
computed independently: the simulator's ground truth (BEY-10) and plain SQL on
the store file itself, to the cent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from tests.integration.analytics.queries import from_warehouse
from transactional.demo.build import GROUND_TRUTH
from transactional.storage.database import STORE_FILE


def _truth(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / GROUND_TRUTH).read_text())  # type: ignore[no-any-return]


def test_daily_sales_match_the_ground_truth_to_the_cent(built: Path) -> None:
    truth = _truth(built)
    totals = from_warehouse(
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
    daily = from_warehouse(built, "select sale_date, gross_minor, units, returns_minor from mart_daily_sales")
    for day, gross, units, returns in daily:
        want = truth["days"][day.isoformat()]
        assert (gross, units, returns) == (want["gross_minor"], want["units"], want["returns_minor"]), day


def test_the_store_has_both_kinds_of_returns(built: Path) -> None:
    """Refunds by lines and amount-only refunds both reach fct_returns, so the tests above cover them."""
    kinds = dict(from_warehouse(built, "select is_by_lines, count(*) from fct_returns group by 1"))
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
    mart_net, lines_net, returns_unattributed = from_warehouse(
        built,
        "select (select sum(net_minor) from mart_daily_sales), (select sum(net_minor) from fct_order_lines),"
        " (select coalesce(sum(returns_minor), 0) from fct_returns where order_line_id is null)",
    )[0]
    assert mart_net == row[0]
    assert lines_net - returns_unattributed == row[0]
