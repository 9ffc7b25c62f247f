"""The inventory marts agree with the store file: stock, stockouts and ABC revenue.

Runs on the shared small demo store (``built`` in conftest.py: store, lake and
``dbt build`` with every model, data test, unit test and metric identity).
Each expected figure is computed with plain SQL on the store file itself, not
with the marts' SQL: stock levels per SKU × warehouse, end-of-day stock from
the movement journal by store-local day, and net revenue per SKU from the
paid order lines and the refunds' lines.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.analytics.queries import TIMEZONE, from_store, from_warehouse


def test_ending_stock_matches_the_store_levels(built: Path) -> None:
    levels = from_store(built, "select sku_id, warehouse_id, on_hand, reserved from stock_levels")
    ending = from_warehouse(
        built,
        """
        select sku_id, warehouse_id, on_hand, reserved
        from mart_stock_daily
        where stock_date = (select max(stock_date) from mart_stock_daily)
        """,
    )
    assert len(levels) > 0
    assert sorted(ending) == sorted(levels)
    # Every SKU is summarised once, and its ending stock is the sum over warehouses.
    assert from_warehouse(built, "select sum(ending_on_hand), count(*) from mart_inventory_sku")[0] == (
        sum(row[2] for row in levels),
        from_store(built, "select count(*) from skus")[0][0],
    )


def test_stockout_days_match_the_journal(built: Path) -> None:
    # End-of-day stock per SKU × warehouse × store-local day, from the pair's
    # first movement day to the last day of the journal or of the levels.
    expected = from_store(
        built,
        """
        with moves as (
            select sku_id, warehouse_id, on_hand_delta, reserved_delta,
                   cast(occurred_at at time zone ? as date) as local_day
            from stock_movements
        ),
        last_day as (
            select greatest(
                (select max(local_day) from moves),
                (select max(cast(updated_at at time zone ? as date)) from stock_levels)
            ) as day
        ),
        pairs as (
            select sku_id, warehouse_id, min(local_day) as first_day from moves group by all
        ),
        pair_days as (
            select sku_id, warehouse_id, cast(d.day as date) as day
            from pairs, last_day, generate_series(pairs.first_day, last_day.day, interval 1 day) as d(day)
        ),
        end_of_day as (
            select p.sku_id, p.warehouse_id, p.day,
                   sum(m.on_hand_delta) - sum(m.reserved_delta) as available
            from pair_days as p
            join moves as m
              on m.sku_id = p.sku_id and m.warehouse_id = p.warehouse_id and m.local_day <= p.day
            group by all
        )
        select count(*) filter (where available <= 0), count(*) from end_of_day
        """,
        [TIMEZONE, TIMEZONE],
    )[0]
    mart = from_warehouse(
        built, "select count(*) filter (where is_stockout), count(*) from mart_stock_daily"
    )[0]
    assert mart == expected
    # Replenishment arrives after the lead time ± a day, so the 12-day store runs out.
    assert mart[0] > 0
    assert from_warehouse(built, "select sum(stockout_days) from mart_inventory_sku")[0][0] == mart[0]


def test_abc_classes_cover_the_revenue(built: Path) -> None:
    # Net revenue per SKU: paid, non-removed lines' gross − discounts, less the
    # revenue of the refunds' lines (refunds of sales only).
    store = dict(
        from_store(
            built,
            """
            with paid_lines as (
                select l.order_line_id, l.sku_id, l.gross_minor - l.discount_minor as revenue_minor
                from order_lines as l
                join orders as o using (order_id)
                where o.paid_at is not null and l.status <> 'removed'
            ),
            refund_lines as (
                select
                    unnest(cast(json_extract_string(lines_json, '$.lines[*].order_line_id') as varchar[]))
                        as order_line_id,
                    unnest(cast(json_extract_string(lines_json, '$.lines[*].revenue_minor') as bigint[]))
                        as revenue_minor
                from refunds
                where status = 'succeeded' and lines_json is not null
            ),
            returned as (
                select order_line_id, sum(revenue_minor) as returns_minor from refund_lines group by all
            )
            select p.sku_id, sum(p.revenue_minor - coalesce(r.returns_minor, 0))
            from paid_lines as p
            left join returned as r using (order_line_id)
            group by all
            """,
        )
    )
    mart = {
        sku: (revenue, abc)
        for sku, revenue, abc in from_warehouse(
            built, "select sku_id, revenue_minor, abc_class from mart_inventory_sku"
        )
    }
    # Every SKU with sales has a class and the store's revenue; no other SKU has a class.
    assert {sku: revenue for sku, (revenue, abc) in mart.items() if abc is not None} == store
    total = sum(store.values())
    a_revenue = sum(revenue for revenue, abc in mart.values() if abc == "A")
    largest = max(store.values())
    assert total > 0
    assert a_revenue >= 0.8 * total - largest
    # The SKU that crosses 80 % is in A, so A stops within one SKU past it.
    assert 0.8 * total <= a_revenue < 0.8 * total + largest
