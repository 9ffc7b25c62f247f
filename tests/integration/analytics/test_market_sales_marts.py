"""The sales-by-SKU/channel, new-vs-returning and market marts agree with the store file to the cent.

Runs on the shared small demo store (``built``: store, lake and ``dbt build``
with every model, data test, unit test and metric identity). Each expected
figure is recomputed with plain SQL on the store file (sales = paid orders'
non-removed lines, dated by the store-local paid day; returns = succeeded
refunds of paid orders), never with the marts' SQL, and compared exactly.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.integration.analytics.queries import TIMEZONE, from_store, from_warehouse

# The sale: non-removed lines of orders that became paid, by the store-local paid day.
_PAID_LINES = """
    select
        l.*,
        o.sales_channel,
        o.customer_id,
        o.guest_email,
        o.ship_country,
        o.ship_region,
        coalesce(o.traffic_source, 'unknown') as traffic_source,
        o.placed_at,
        o.paid_at,
        cast(o.paid_at at time zone $tz as date) as sale_date
    from order_lines as l
    join orders as o using (order_id)
    where o.paid_at is not null and l.status <> 'removed'
"""

# What each line gave back through succeeded refunds by lines (net of tax), over its life.
_LINE_RETURNS = """
    select line.order_line_id, sum(line.revenue_minor) as returns_minor
    from (
        select unnest(from_json(json_extract(lines_json, '$.lines'),
                                '[{"order_line_id": "VARCHAR", "revenue_minor": "BIGINT"}]')) as line
        from refunds
        where status = 'succeeded'
    )
    group by 1
"""


def _store(built: Path, sql: str) -> list[tuple[Any, ...]]:
    return from_store(built, sql.replace("$tz", "?"), [TIMEZONE] * sql.count("$tz"))


def test_revenue_by_category_and_channel_matches_the_store(built: Path) -> None:
    store = _store(
        built,
        f"""
        with lines as ({_PAID_LINES}), line_returns as ({_LINE_RETURNS})
        select c.name, lines.sales_channel, sum(lines.quantity), sum(lines.gross_minor),
               sum(lines.discount_minor),
               sum(lines.gross_minor - lines.discount_minor - coalesce(line_returns.returns_minor, 0))
        from lines
        join categories as c using (category_id)
        left join line_returns using (order_line_id)
        group by all
        """,
    )
    mart = from_warehouse(
        built,
        """
        select category_name, sales_channel, sum(units), sum(gross_minor), sum(discount_minor), sum(net_minor)
        from mart_market_demand_daily
        group by all
        """,
    )
    assert sorted(mart) == sorted(store)
    assert len({row[0] for row in store}) > 5 and len({row[1] for row in store}) > 1
    # Some line really was returned, so net differs from gross − discounts somewhere.
    assert any(row[5] != row[3] - row[4] for row in store)


def test_sales_by_channel_day_match_the_store_with_shipping_and_returns(built: Path) -> None:
    sales = _store(
        built,
        f"""
        with lines as ({_PAID_LINES})
        select sale_date, sales_channel, traffic_source, ship_country, ship_region,
               count(distinct order_id), sum(quantity), sum(gross_minor), sum(discount_minor), sum(tax_minor)
        from lines
        group by all
        """,
    )
    shipping = _store(
        built,
        """
        select cast(paid_at at time zone $tz as date), sales_channel, coalesce(traffic_source, 'unknown'),
               ship_country, ship_region, sum(shipping_minor)
        from orders where paid_at is not null
        group by all
        """,
    )
    # A return is dated by the store-local day the refund succeeded (its last update).
    returns = _store(
        built,
        """
        select cast(r.updated_at at time zone $tz as date), o.sales_channel,
               coalesce(o.traffic_source, 'unknown'), o.ship_country, o.ship_region, sum(r.revenue_minor)
        from refunds as r
        join orders as o using (order_id)
        where r.status = 'succeeded' and o.paid_at is not null
        group by all
        """,
    )
    expected: dict[tuple[Any, ...], list[int]] = {}
    for row in sales:
        expected.setdefault(row[:5], [0] * 7)[:5] = list(row[5:])
    for row in shipping:
        expected.setdefault(row[:5], [0] * 7)[5] = row[5]
    for row in returns:
        expected.setdefault(row[:5], [0] * 7)[6] = row[5]
    mart = from_warehouse(
        built,
        """
        select sale_date, sales_channel, traffic_source, ship_country, ship_region,
               orders, units, gross_minor, discount_minor, tax_minor, shipping_minor, returns_minor,
               net_minor, aov_amount
        from mart_sales_by_channel_daily
        """,
    )
    got = {row[:5]: list(row[5:12]) for row in mart}
    assert got == {key: [int(v) for v in values] for key, values in expected.items()}
    for row in mart:
        orders, gross, discount, returns_minor, net, aov = row[5], row[7], row[8], row[11], row[12], row[13]
        assert net == gross - discount - returns_minor
        assert (
            (aov is None)
            if not orders
            else abs(aov - Decimal(gross - discount) / 100 / orders) < Decimal("0.01")
        )
    assert sum(row[5] for row in returns) > 0


def test_units_by_sku_match_the_store(built: Path) -> None:
    store = _store(
        built,
        f"""
        with lines as ({_PAID_LINES})
        select sku_id, sum(quantity), sum(gross_minor - discount_minor) from lines group by 1
        """,
    )
    by_sku = from_warehouse(
        built,
        """
        select sku_id, sum(units), sum(gross_minor - discount_minor)
        from mart_sales_by_sku_daily where sku_id is not null group by 1 having sum(units) > 0
        """,
    )
    assert sorted(by_sku) == sorted(store)
    periods = from_warehouse(
        built, "select sku_id, sum(units) from mart_sku_price_periods group by 1 having sum(units) > 0"
    )
    assert sorted(periods) == sorted((sku, units) for sku, units, _ in store)
    # Σ net by SKU (with the amount-only returns' null-SKU rows) is the daily mart's net.
    sku_net, daily_net = from_warehouse(
        built,
        "select (select sum(net_minor) from mart_sales_by_sku_daily), (select sum(net_minor) from mart_daily_sales)",
    )[0]
    assert sku_net == daily_net


def test_each_line_is_in_the_price_period_at_its_order_placement(built: Path) -> None:
    store = _store(
        built,
        f"""
        with lines as ({_PAID_LINES})
        select lines.order_line_id,
               (select p.price_id from sku_prices as p
                where p.sku_id = lines.sku_id and p.effective_from <= lines.placed_at
                order by p.effective_from desc, p.created_at desc limit 1)
        from lines
        """,
    )
    mart = from_warehouse(built, "select order_line_id, price_id from fct_market_order_lines")
    assert sorted(mart, key=repr) == sorted(store, key=repr)
    # Markdowns happened in the demo, so more than one price period sold.
    assert (
        from_warehouse(
            built, "select count(*) from mart_sku_price_periods where price_reason = 'markdown' and units > 0"
        )[0][0]
        > 0
    )


def test_discount_bands_match_the_store(built: Path) -> None:
    store = _store(
        built,
        f"""
        with lines as ({_PAID_LINES})
        select case when discount_minor = 0 then 'none'
                    when 100 * discount_minor < 10 * gross_minor then '0-10%'
                    when 100 * discount_minor < 20 * gross_minor then '10-20%'
                    else '20%+' end,
               sum(quantity), sum(discount_minor)
        from lines group by 1
        """,
    )
    mart = from_warehouse(
        built,
        "select discount_band, sum(units), sum(discount_minor) from mart_discount_bands_daily group by 1",
    )
    assert sorted(mart) == sorted(store)
    assert {row[0] for row in store} >= {"none", "0-10%", "10-20%"}


def test_new_and_returning_orders_match_the_store(built: Path) -> None:
    # Buyer = the account, else the guest's e-mail (normalised), else the order alone.
    store = _store(
        built,
        """
        with paid as (
            select order_id, paid_at, customer_id is null as is_guest,
                   coalesce('c' || customer_id, 'g' || lower(trim(guest_email)), 'o' || order_id) as buyer
            from orders where paid_at is not null
        )
        select cast(paid_at at time zone $tz as date),
               case when row_number() over (partition by buyer order by paid_at, order_id) = 1
                    then 'new' else 'returning' end,
               is_guest
        from paid
        """,
    )
    expected = Counter(store)
    mart = from_warehouse(
        built, "select sale_date, buyer_type, is_guest, orders from mart_new_vs_returning_daily"
    )
    assert {row[:3]: row[3] for row in mart} == dict(expected)
    paid_orders = from_store(built, "select count(*) from orders where paid_at is not null")[0][0]
    assert sum(expected.values()) == paid_orders > 0
    net = from_warehouse(
        built,
        "select (select sum(net_minor) from mart_new_vs_returning_daily),"
        " (select sum(net_minor) from fct_order_lines)"
        " - (select coalesce(sum(returns_minor), 0) from fct_returns where order_line_id is null)",
    )[0]
    assert net[0] == net[1]


def test_traffic_demand_counts_every_paid_order_and_session(built: Path) -> None:
    orders = _store(
        built,
        """
        select coalesce(traffic_source, 'unknown'), coalesce(utm_source, '(none)'), count(*)
        from orders where paid_at is not null group by all
        """,
    )
    sessions = from_store(
        built,
        "select count(distinct session_id) from storefront_events"
        " where session_id is not null and event_name <> 'refund'",
    )[0][0]
    mart = from_warehouse(
        built,
        """
        select traffic_source, utm_source, sum(orders), sum(sessions), sum(purchasing_sessions)
        from mart_traffic_demand_daily group by all
        """,
    )
    assert sorted(row[:3] for row in mart if row[2]) == sorted(orders)
    assert sum(row[3] for row in mart) == sessions
    funnel = from_warehouse(built, "select sum(sessions), sum(purchase_sessions) from mart_funnel_daily")[0]
    assert (sum(row[3] for row in mart), sum(row[4] for row in mart)) == funnel
