"""BEY-10: what the pages show for a period equals a plain-SQL recount on the store and the demo's ground truth.

The store is read directly (not the lake, not the marts), with the definitions
of DECISIONLOG.md §5/§10: a sale is an order that became paid, dated by the
store-local day of ``paid_at``; its non-removed lines carry units, gross and
discounts; a return is a succeeded refund of a sale's revenue (without tax),
dated by the store-local day of its ledger ``refund`` posting. The ground
truth was counted by the simulator from its own decisions (§8).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.integration.dashboards.conftest import metric, parse_money

TIMEZONE = "America/New_York"
# Days 8–13 of the 12-day demo: returns on three of them, and the day of a sales peak.
RANGES = [(date(2026, 11, 8), date(2026, 11, 13)), (date(2026, 11, 3), date(2026, 11, 15))]

STORE_SALES = """
with paid as (
    select order_id from orders
    where paid_at is not null and (paid_at at time zone $tz)::date between $start and $end
)
select
    (select count(*) from paid) as orders,
    coalesce(sum(l.quantity), 0) as units,
    coalesce(sum(l.gross_minor), 0) as gross_minor,
    coalesce(sum(l.discount_minor), 0) as discount_minor
from paid join order_lines as l using (order_id)
where l.status <> 'removed'
"""

STORE_RETURNS = """
select coalesce(sum(r.revenue_minor), 0)
from refunds as r
join ledger_postings as p on p.reference_id = r.refund_id and p.kind = 'refund'
join orders as o on o.order_id = r.order_id and o.paid_at is not null
where r.status = 'succeeded' and (p.posted_at at time zone $tz)::date between $start and $end
"""


def _from_store(store: Path, start: date, end: date) -> dict[str, int]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        params = {"tz": TIMEZONE, "start": start, "end": end}
        orders, units, gross, discounts = con.execute(STORE_SALES, params).fetchone()  # type: ignore[misc]
        returns = con.execute(STORE_RETURNS, params).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return _figures(int(orders), int(units), int(gross), int(discounts), int(returns))


def _from_truth(truth_file: Path, start: date, end: date) -> dict[str, int]:
    days = json.loads(truth_file.read_text())["days"]
    chosen = [v for d, v in days.items() if start <= date.fromisoformat(d) <= end]
    total = {
        k: sum(v[k] for v in chosen)
        for k in ("orders_paid", "units", "gross_minor", "discount_minor", "returns_minor")
    }
    return _figures(
        total["orders_paid"],
        total["units"],
        total["gross_minor"],
        total["discount_minor"],
        total["returns_minor"],
    )


def _figures(orders: int, units: int, gross: int, discounts: int, returns: int) -> dict[str, int]:
    return {
        "orders": orders,
        "units": units,
        "gross_minor": gross,
        "discount_minor": discounts,
        "returns_minor": returns,
        "net_minor": gross - discounts - returns,
        "aov_minor": int((Decimal(gross - discounts) / orders).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if orders
        else 0,
    }


def _shown(at: AppTest) -> dict[str, int]:
    return {
        "orders": int(metric(at, "Orders").replace(",", "")),
        "units": int(metric(at, "Units").replace(",", "")),
    }


@pytest.mark.parametrize("period", RANGES, ids=lambda r: f"{r[0]:%m%d}-{r[1]:%m%d}")
def test_overview_and_sales_figures_equal_the_store_and_the_ground_truth(
    app: Callable[..., AppTest], built: Path, period: tuple[date, date]
) -> None:
    start, end = period
    store = _from_store(built / "store.duckdb", start, end)
    truth = _from_truth(built / "ground_truth.json", start, end)
    assert store == truth  # the two independent counts agree before the page is judged
    assert store["orders"] > 0

    at = app()
    at.date_input(key="f_dates").set_value((start, end)).run()
    assert not at.exception
    overview = {
        **_shown(at),
        "net_minor": parse_money(metric(at, "Net revenue")),
        "aov_minor": parse_money(metric(at, "Average order value")),
    }
    at.switch_page("app_pages/sales.py").run()
    assert not at.exception
    sales = {
        "gross_minor": parse_money(metric(at, "Gross sales")),
        "discount_minor": parse_money(metric(at, "Discounts")),
        "returns_minor": parse_money(metric(at, "Returns")),
        "net_minor": parse_money(metric(at, "Net revenue")),
    }
    assert overview == {k: store[k] for k in overview}
    assert sales == {k: store[k] for k in sales}
    at.switch_page("app_pages/finance.py").run()
    assert parse_money(metric(at, "Net sales")) == store["net_minor"]
