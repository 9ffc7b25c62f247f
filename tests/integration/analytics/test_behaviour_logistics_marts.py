"""The behaviour and logistics marts agree with the demo's ground truth and with the store file.

Runs on the shared small demo store (``built`` in conftest.py: store, lake and
``dbt build`` with every model, data test, unit test and metric identity).
The funnel is compared with ``ground_truth.json`` (sessions and each step by
the store-local day the session started, counted by the simulator itself);
shipments and purchases with plain SQL on the store file, not the marts' SQL.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.analytics.queries import from_store, from_warehouse
from transactional.demo.build import GROUND_TRUTH

STEPS = ("session", "view_item", "add_to_cart", "begin_checkout", "add_payment_info", "purchase")


def test_funnel_by_day_matches_the_ground_truth(built: Path) -> None:
    truth = json.loads((built / GROUND_TRUTH).read_text())["funnel"]
    expected = {day: tuple(steps.get(step, 0) for step in STEPS) for day, steps in truth.items()}
    rows = from_warehouse(
        built,
        """
        select session_date, sum(sessions), sum(view_item_sessions), sum(add_to_cart_sessions),
               sum(begin_checkout_sessions), sum(add_payment_info_sessions), sum(purchases)
        from mart_funnel_daily
        group by 1
        """,
    )
    mart = {row[0].isoformat(): tuple(int(v) for v in row[1:]) for row in rows}
    assert mart == expected
    assert sum(day[0] for day in expected.values()) > 0
    assert sum(day[-1] for day in expected.values()) > 0


def test_funnel_purchases_are_the_paid_orders(built: Path) -> None:
    paid = from_store(built, "select count(*) from orders where paid_at is not null")[0][0]
    sessions, purchases = from_warehouse(built, "select count(*), sum(purchases) from fct_sessions")[0]
    assert purchases == paid > 0
    conversion = from_warehouse(
        built, "select sum(purchase_sessions) / sum(sessions) from mart_funnel_daily"
    )[0][0]
    # The simulator's funnel converts about 2.5-3 % of sessions (DECISIONLOG.md §8).
    assert 0.01 < conversion < 0.06
    assert sessions == from_store(built, "select count(distinct session_id) from storefront_events")[0][0]


def test_shipments_match_the_store(built: Path) -> None:
    shipments, delivered = from_store(built, "select count(*), count(delivered_at) from shipments")[0]
    assert shipments > 0 and delivered > 0
    assert from_warehouse(built, "select count(*), count(*) filter (where is_delivered) from fct_shipments")[
        0
    ] == (shipments, delivered)
    shipped = from_store(built, "select count(*) from shipments where shipped_at is not null")[0][0]
    weekly = from_warehouse(built, "select sum(shipments), sum(delivered) from mart_delivery_performance")[0]
    assert weekly == (shipped, delivered)


def test_on_time_rates_follow_the_promises(built: Path) -> None:
    dispatched, delivered = from_store(
        built,
        """
        select
            avg(case when shipped_at <= promised_dispatch_by then 1.0 else 0.0 end)
                filter (where shipped_at is not null),
            avg(case when cast(delivered_at at time zone 'America/New_York' as date)
                          <= promised_delivery_date then 1.0 else 0.0 end)
                filter (where delivered_at is not null)
        from shipments
        """,
    )[0]
    mart = from_warehouse(
        built,
        """
        select sum(dispatched_on_time) / sum(shipments), sum(delivered_on_time) / sum(delivered)
        from mart_delivery_performance
        """,
    )[0]
    assert abs(mart[0] - float(dispatched)) < 1e-9
    assert abs(mart[1] - float(delivered)) < 1e-9


def test_cohorts_cover_every_registered_buyer(built: Path) -> None:
    buyers, orders = from_store(
        built,
        "select count(distinct customer_id), count(*) from orders"
        " where paid_at is not null and customer_id is not null",
    )[0]
    cohort = from_warehouse(
        built,
        "select sum(cohort_customers) filter (where months_since_first_order = 0), sum(orders)"
        " from mart_cohort_retention",
    )[0]
    assert cohort == (buyers, orders)
    assert from_warehouse(built, "select sum(customers), sum(orders) from mart_repeat_purchase")[0] == (
        buyers,
        orders,
    )
