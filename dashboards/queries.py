"""Every read of the published marts file: the only module of the dashboards that touches DuckDB.

The pipeline publishes by renaming a new file over ``marts.duckdb``; a
connection held open would keep reading the old file forever. So each query
opens the file read-only, runs, and closes, and results are cached with
``st.cache_data`` keyed on ``marts_version`` (a cheap stat) and the
publication id. A page render resolves the version once (``snapshot``); if a
publish lands mid-render, the first query that notices the file changed under
it raises ``PublicationChanged`` and the app reruns the page on the new file,
so a page never mixes two publications and never blanks.

All aggregation happens in SQL; pages receive small frames. Drill-downs read
the facts filtered and limited, and their check totals are summed in SQL over
every matching row. User choices only ever travel as query parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import streamlit as st

from dashboards.config import marts_path
from pipelines.publish import marts_version

DRILL_LIMIT = 500


class PublicationChanged(Exception):
    """The marts file was replaced while a page was reading it; rerun the page on the new one."""


class FilterValues(Protocol):
    start: date
    end: date
    sources: tuple[str, ...]
    channels: tuple[str, ...]
    categories: tuple[str, ...]
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One publication of the marts, as one page render reads it."""

    path: str
    version: str
    publication_id: str
    published_at: datetime | None
    snapshot_created_at: datetime | None
    commit_seq: int | None
    store_timezone: str | None
    currency: str | None
    tables: frozenset[str]

    def has(self, table: str) -> bool:
        return table in self.tables


# -- plumbing ------------------------------------------------------------------------------

_PARAM = re.compile(r"\$([a-z_]+)")


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


@st.cache_data(show_spinner=False, max_entries=8)
def _publication(path: str, version: str) -> dict[str, Any]:
    del version  # part of the cache key only
    con = _connect(path)
    try:
        cur = con.execute("select * from _publication limit 1")
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        ]
    finally:
        con.close()
    info = dict(zip(names, row or (), strict=False))
    info["tables"] = tables
    return info


def snapshot(path: Path | None = None) -> Snapshot | None:
    """The publication now at the marts path, or None when nothing is published yet."""
    target = path or marts_path()
    version = marts_version(target)
    if version is None:
        return None
    try:
        info = _publication(str(target), version)
    except duckdb.CatalogException:
        return None  # a DuckDB file without _publication was never published by the pipeline
    return Snapshot(
        path=str(target),
        version=version,
        publication_id=str(info.get("publication_id")),
        published_at=info.get("published_at"),
        snapshot_created_at=info.get("snapshot_created_at"),
        commit_seq=info.get("commit_seq"),
        store_timezone=info.get("store_timezone"),
        currency=info.get("currency"),
        tables=frozenset(info["tables"]),
    )


def _execute(path: str, publication_id: str, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
    con = _connect(path)
    try:
        row = con.execute("select publication_id from _publication limit 1").fetchone()
        if row is None or row[0] != publication_id:
            raise PublicationChanged(path)
        return con.execute(sql, dict(params)).df()
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(path: str, version: str, publication_id: str, sql: str, params: tuple) -> pd.DataFrame:
    del version  # part of the cache key only: a new publish means new entries
    return _execute(path, publication_id, sql, _with_lists(params))


def _params(sql: str, values: Mapping[str, Any]) -> tuple:
    # DuckDB refuses named parameters the statement does not use, so pass exactly the ones it names.
    used = sorted(set(_PARAM.findall(sql)))
    return tuple((name, values[name]) for name in used)


def filter_values(f: FilterValues | None, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if f is not None:
        values.update(
            start=f.start,
            end=f.end,
            sources=list(f.sources),
            channels=list(f.channels),
            categories=list(f.categories),
            regions=list(f.regions),
        )
    values.update(extra)
    return values


def run(snap: Snapshot, sql: str, f: FilterValues | None = None, **extra: Any) -> pd.DataFrame:
    """Run one of this module's statements on the snapshot, cached on its version."""
    values = filter_values(f, **extra)
    params = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in _params(sql, values))
    return _cached(snap.path, snap.version, snap.publication_id, sql, params)


def run_uncached(snap: Snapshot, sql: str, f: FilterValues | None = None, **extra: Any) -> pd.DataFrame:
    """For deferred downloads, which run outside the script thread (no Streamlit cache there)."""
    values = filter_values(f, **extra)
    return _execute(snap.path, snap.publication_id, sql, dict(_params(sql, values)))


def _with_lists(params: tuple) -> dict[str, Any]:
    # Lists travel as tuples to be hashable cache keys; DuckDB binds a tuple as a STRUCT, so back to lists.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params}


# -- filter predicates (constant SQL; the values are parameters) -----------------------------

_LINE_DIMS = """
    (len($sources::varchar[]) = 0 or list_contains($sources::varchar[], traffic_source))
    and (len($channels::varchar[]) = 0 or list_contains($channels::varchar[], sales_channel))
    and (len($categories::varchar[]) = 0 or list_contains($categories::varchar[], category_id))
    and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], ship_region))
"""

_LINES = f"""
lines as (
    select *, gross_minor - discount_minor as sales_minor
    from fct_order_lines
    where sale_date between $start and $end and {_LINE_DIMS}
)"""

# A return takes its order's channel, source and region; only a refund by lines has a category,
# so an amount-only refund drops out when a category is chosen.
_RETURNS = """
returns as (
    select
        r.return_id, r.return_kind, r.refund_id, r.order_id, r.order_line_id, r.is_by_lines, r.return_date,
        r.quantity, r.returns_minor, o.sales_channel, o.traffic_source, o.ship_region, l.category_id
    from fct_returns as r
    left join (
        select order_id, any_value(sales_channel) as sales_channel,
            any_value(traffic_source) as traffic_source, any_value(ship_region) as ship_region
        from fct_order_lines group by order_id
    ) as o on o.order_id = r.order_id
    left join fct_order_lines as l on l.order_line_id = r.order_line_id
    where r.return_date between $start and $end
        and (len($sources::varchar[]) = 0 or list_contains($sources::varchar[], o.traffic_source))
        and (len($channels::varchar[]) = 0 or list_contains($channels::varchar[], o.sales_channel))
        and (len($categories::varchar[]) = 0 or list_contains($categories::varchar[], l.category_id))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], o.ship_region))
)"""


# -- options and labels ----------------------------------------------------------------------

DATE_BOUNDS = """
select min(d) as first_day, max(d) as last_day from (
    select sale_date as d from mart_daily_sales
    union all select session_date from mart_funnel_daily
)
"""

DIMENSION_OPTIONS = """
select 'sources' as dim, traffic_source as value from fct_order_lines where traffic_source is not null
union select 'sources', traffic_source from mart_funnel_daily
union select 'channels', sales_channel from fct_order_lines where sales_channel is not null
union select 'categories', category_id from fct_order_lines where category_id is not null
union select 'regions', ship_region from fct_order_lines where ship_region is not null
union select 'regions', ship_region from mart_delivery_performance
order by 1, 2
"""


def date_bounds(snap: Snapshot) -> tuple[date, date] | None:
    df = run(snap, DATE_BOUNDS)
    first, last = df.iloc[0]["first_day"], df.iloc[0]["last_day"]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def dimension_options(snap: Snapshot) -> dict[str, list[str]]:
    df = run(snap, DIMENSION_OPTIONS)
    return {dim: sorted(group["value"].tolist()) for dim, group in df.groupby("dim")}


CATEGORY_LABEL_SOURCES = """
select table_name from information_schema.columns
where table_schema = 'main' and column_name in ('category_id', 'category_name')
group by table_name having count(*) = 2 order by table_name limit 1
"""


def category_labels(snap: Snapshot) -> dict[str, str]:
    """Category names when some published mart carries them; ids otherwise."""
    tables = run(snap, CATEGORY_LABEL_SOURCES)
    if tables.empty:
        return {}
    table = str(tables.iloc[0]["table_name"])
    sql = f'select distinct category_id, category_name from "{_identifier(table)}"'
    df = run(snap, sql)
    return dict(zip(df["category_id"], df["category_name"], strict=False))


def _identifier(name: str) -> str:
    # Table and column names only ever come from the file's own catalogue or from this module.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


# -- sales (ANA-1) and the overview -------------------------------------------------------------

SALES_TOTALS = f"""
with {_LINES}, {_RETURNS}
select
    (select count(distinct order_id) from lines) as orders,
    (select coalesce(sum(quantity), 0) from lines) as units,
    (select coalesce(sum(gross_minor), 0) from lines) as gross_minor,
    (select coalesce(sum(discount_minor), 0) from lines) as discount_minor,
    (select coalesce(sum(returns_minor), 0) from returns) as returns_minor,
    (select coalesce(sum(cogs_minor), 0) from lines) as cogs_minor,
    (select coalesce(sum(tax_minor), 0) from lines) as tax_minor
"""

SALES_DAILY = f"""
with {_LINES}, {_RETURNS},
days as (
    select sale_date as day, count(distinct order_id) as orders, sum(quantity) as units,
        sum(gross_minor) as gross_minor, sum(discount_minor) as discount_minor,
        0::bigint as returns_minor, sum(cogs_minor) as cogs_minor
    from lines group by 1
    union all
    select return_date, 0, 0, 0, 0, sum(returns_minor), 0 from returns group by 1
)
select day, sum(orders)::bigint as orders, sum(units)::bigint as units,
    sum(gross_minor)::bigint as gross_minor, sum(discount_minor)::bigint as discount_minor,
    sum(returns_minor)::bigint as returns_minor, sum(cogs_minor)::bigint as cogs_minor
from days group by day order by day
"""

TOP_PRODUCTS = f"""
with {_LINES}
select product_id, any_value(category_id) as category_id, count(distinct order_id) as orders,
    sum(quantity)::bigint as units, sum(sales_minor)::bigint as sales_minor,
    sum(net_minor)::bigint as net_minor
from lines group by product_id order by sales_minor desc, product_id limit $n
"""

BY_DIMENSION = f"""
with {_LINES}
select {{dim}} as value, count(distinct order_id) as orders, sum(quantity)::bigint as units,
    sum(gross_minor)::bigint as gross_minor, sum(discount_minor)::bigint as discount_minor,
    sum(sales_minor)::bigint as sales_minor
from lines group by 1 order by sales_minor desc
"""

SALES_DIMENSIONS = ("category_id", "sales_channel", "traffic_source", "ship_region", "device")


def sales_totals(snap: Snapshot, f: FilterValues, start: date, end: date) -> dict[str, int]:
    row = run(snap, SALES_TOTALS, f, start=start, end=end).iloc[0]
    return {k: int(v) for k, v in row.items()}


def sales_daily(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, SALES_DAILY, f)


def top_products(snap: Snapshot, f: FilterValues, n: int = 15) -> pd.DataFrame:
    return run(snap, TOP_PRODUCTS, f, n=n)


def sales_by(snap: Snapshot, f: FilterValues, dimension: str) -> pd.DataFrame:
    if dimension not in SALES_DIMENSIONS:
        raise ValueError(dimension)
    return run(snap, BY_DIMENSION.replace("{dim}", dimension), f)


# -- behaviour (ANA-2) ------------------------------------------------------------------------

_FUNNEL_WHERE = """
    session_date between $start and $end
    and (len($sources::varchar[]) = 0 or list_contains($sources::varchar[], traffic_source))
"""

FUNNEL_TOTALS = f"""
select coalesce(sum(sessions), 0)::bigint as sessions,
    coalesce(sum(view_item_sessions), 0)::bigint as view_item,
    coalesce(sum(add_to_cart_sessions), 0)::bigint as add_to_cart,
    coalesce(sum(begin_checkout_sessions), 0)::bigint as begin_checkout,
    coalesce(sum(add_payment_info_sessions), 0)::bigint as add_payment_info,
    coalesce(sum(purchase_sessions), 0)::bigint as purchase_sessions,
    coalesce(sum(purchases), 0)::bigint as purchases,
    coalesce(sum(purchase_value_minor), 0)::bigint as purchase_value_minor
from mart_funnel_daily where {_FUNNEL_WHERE.replace("$start", "$fstart").replace("$end", "$fend")}
"""

FUNNEL_DAILY = f"""
select session_date as day, sum(sessions)::bigint as sessions,
    sum(add_to_cart_sessions)::bigint as add_to_cart, sum(purchase_sessions)::bigint as purchase_sessions
from mart_funnel_daily where {_FUNNEL_WHERE} group by 1 order by 1
"""

FUNNEL_BY = (
    """
select {dim} as value, sum(sessions)::bigint as sessions,
    sum(add_to_cart_sessions)::bigint as add_to_cart, sum(purchase_sessions)::bigint as purchase_sessions,
    sum(purchases)::bigint as purchases, sum(purchase_value_minor)::bigint as purchase_value_minor
from mart_funnel_daily where """
    + _FUNNEL_WHERE
    + " group by 1 order by sessions desc"
)

COHORTS = """
select cohort_month, activity_month, months_since_first_order, cohort_customers, active_customers, orders, net_minor,
    customer_retention_rate, net_revenue_retention_rate
from mart_cohort_retention order by cohort_month, months_since_first_order
"""

REPEAT = "select * from mart_repeat_purchase order by cohort_month"


def funnel_totals(snap: Snapshot, f: FilterValues, start: date, end: date) -> dict[str, int]:
    row = run(snap, FUNNEL_TOTALS, f, fstart=start, fend=end).iloc[0]
    return {k: int(v) for k, v in row.items()}


def funnel_daily(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, FUNNEL_DAILY, f)


def funnel_by(snap: Snapshot, f: FilterValues, dimension: str) -> pd.DataFrame:
    if dimension not in ("traffic_source", "device"):
        raise ValueError(dimension)
    return run(snap, FUNNEL_BY.replace("{dim}", dimension), f)


def cohorts(snap: Snapshot) -> pd.DataFrame:
    return run(snap, COHORTS)


def repeat_purchase(snap: Snapshot) -> pd.DataFrame:
    return run(snap, REPEAT)


# -- inventory (ANA-4) ------------------------------------------------------------------------

# mart_inventory_sku carries no category: a SKU's comes from the price periods (every SKU with a price) when
# published, else from the order lines (SKUs that sold; the others drop out while a category is chosen).
_SKU_CATEGORIES = {
    True: "select distinct sku_id, category_id from mart_sku_price_periods",
    False: "select distinct sku_id, category_id from fct_order_lines",
}
_IN_CATEGORIES = """
    (len($categories::varchar[]) = 0 or sku_id in (
        select sku_id from sku_categories where list_contains($categories::varchar[], category_id)))
"""

INVENTORY_SKUS = f"""
with sku_categories as ({{sku_categories}})
select * from mart_inventory_sku where {_IN_CATEGORIES}
order by revenue_minor desc nulls last, sku_id
"""

INVENTORY_TOTALS = f"""
with sku_categories as ({{sku_categories}})
select count(*) as skus, count(abc_class) as skus_with_sales,
    coalesce(sum(units_sold), 0)::bigint as units_sold, coalesce(sum(ending_on_hand), 0)::bigint as ending_on_hand,
    coalesce(sum(cogs_minor), 0)::bigint as cogs_minor,
    coalesce(sum(avg_inventory_value_amount), 0) as avg_inventory_value_amount,
    coalesce(sum(avg_on_hand), 0) as avg_on_hand,
    coalesce(sum(stockout_days), 0)::bigint as stockout_days,
    count(*) filter (where is_slow_mover) as slow_movers,
    max(period_days) as period_days, min(period_first_day) as first_day, max(period_last_day) as last_day
from mart_inventory_sku where {_IN_CATEGORIES}
"""

ABC_SUMMARY = f"""
with sku_categories as ({{sku_categories}})
select coalesce(abc_class, 'no sales') as abc_class, count(*) as skus,
    coalesce(sum(revenue_minor), 0)::bigint as revenue_minor, coalesce(sum(units_sold), 0)::bigint as units_sold,
    coalesce(sum(ending_on_hand), 0)::bigint as ending_on_hand
from mart_inventory_sku where {_IN_CATEGORIES} group by 1 order by 1
"""

STOCKOUTS_DAILY = f"""
with sku_categories as ({{sku_categories}})
select stock_date as day, count(*) filter (where is_stockout) as stockout_sku_warehouses,
    count(*) as sku_warehouses
from mart_stock_daily where stock_date between $start and $end and {_IN_CATEGORIES}
group by 1 order by 1
"""

# Codes beside the ids, so an operator can read the list.
ALERTS = """
select a.kind, a.severity, a.abc_class, s.sku_code, w.warehouse_code, a.forecast_stockout_date,
    a.days_of_cover, a.available, a.incoming, a.daily_demand, a.reorder_point, a.suggested_reorder_quantity,
    a.lead_time_days, a.on_hand, a.reserved, a.as_of_date, a.sku_id, a.warehouse_id, a.product_id,
    a.category_id, a.alert_id
from mart_inventory_alerts as a
left join (select sku_id, any_value(sku_code) as sku_code from mart_inventory_sku group by 1) as s using (sku_id)
left join (
    select warehouse_id, any_value(warehouse_code) as warehouse_code from fct_shipments group by 1
) as w using (warehouse_id)
where (len($categories::varchar[]) = 0 or list_contains($categories::varchar[], a.category_id))
order by case a.kind when 'stockout_forecast' then 0 else 1 end, a.forecast_stockout_date nulls last,
    a.severity, a.sku_id, a.warehouse_id
"""


def _with_sku_categories(snap: Snapshot, sql: str) -> str:
    return sql.replace("{sku_categories}", _SKU_CATEGORIES[snap.has("mart_sku_price_periods")])


def inventory_skus(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, _with_sku_categories(snap, INVENTORY_SKUS), f)


def inventory_totals(snap: Snapshot, f: FilterValues) -> dict[str, Any]:
    return run(snap, _with_sku_categories(snap, INVENTORY_TOTALS), f).iloc[0].to_dict()


def abc_summary(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, _with_sku_categories(snap, ABC_SUMMARY), f)


def stockouts_daily(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, _with_sku_categories(snap, STOCKOUTS_DAILY), f)


def inventory_alerts(snap: Snapshot, f: FilterValues) -> pd.DataFrame | None:
    """The alert list, or None while mart_inventory_alerts is not published."""
    if not snap.has("mart_inventory_alerts"):
        return None
    return run(snap, ALERTS, f)


# -- finance (ANA-5) --------------------------------------------------------------------------

FINANCE_TOTALS = """
select count(*) as days,
    coalesce(sum(orders), 0)::bigint as orders,
    coalesce(sum(gross_minor), 0)::bigint as gross_minor,
    coalesce(sum(discount_minor), 0)::bigint as discount_minor,
    coalesce(sum(returns_minor), 0)::bigint as returns_minor,
    coalesce(sum(net_minor), 0)::bigint as net_minor,
    coalesce(sum(cogs_minor), 0)::bigint as cogs_minor,
    coalesce(sum(gross_margin_minor), 0)::bigint as gross_margin_minor,
    coalesce(sum(tax_minor), 0)::bigint as tax_minor,
    coalesce(sum(shipping_minor), 0)::bigint as shipping_minor,
    coalesce(sum(ledger_revenue_minor), 0)::bigint as ledger_revenue_minor,
    coalesce(sum(ledger_refunds_minor), 0)::bigint as ledger_refunds_minor,
    coalesce(sum(ledger_net_revenue_minor), 0)::bigint as ledger_net_revenue_minor,
    coalesce(sum(provider_fees_minor), 0)::bigint as provider_fees_minor
from mart_daily_finance where finance_date between $fstart and $fend
"""

FINANCE_DAILY = """
select finance_date as day, net_minor, cogs_minor, gross_margin_minor, ledger_net_revenue_minor,
    provider_fees_minor
from mart_daily_finance where finance_date between $start and $end order by 1
"""

FEES_BY_METHOD = """
select payment_method, sum(fee_postings)::bigint as fee_postings, sum(fee_minor)::bigint as fee_minor,
    sum(captured_minor)::bigint as captured_minor
from mart_payment_fees_daily where fee_date between $start and $end group by 1 order by fee_minor desc
"""

# The latest daily row per account × provider up to the end of the range carries its running balance.
LEDGER_BALANCES = """
select ledger_account, account_type, coalesce(payment_provider, '') as payment_provider,
    arg_max(running_balance_minor, balance_date)::bigint as running_balance_minor,
    max(balance_date) as as_of
from mart_ledger_balances_daily where balance_date <= $end
group by all order by ledger_account, payment_provider
"""

LEDGER_MOVEMENTS = """
select ledger_account, sum(debit_minor)::bigint as debit_minor, sum(credit_minor)::bigint as credit_minor,
    sum(balance_minor)::bigint as balance_minor
from mart_ledger_balances_daily where balance_date between $start and $end group by 1 order by 1
"""

RECONCILIATION = """
select reconciliation_date as day, status, orders, paid_orders, orders_matched, orders_with_difference,
    unpaid_orders, sales_figure_minor, ledger_figure_minor, difference_minor
from mart_revenue_reconciliation where reconciliation_date between $start and $end order by 1
"""


def finance_totals(snap: Snapshot, start: date, end: date) -> dict[str, int]:
    row = run(snap, FINANCE_TOTALS, None, fstart=start, fend=end).iloc[0]
    return {k: int(v) for k, v in row.items()}


def finance_daily(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, FINANCE_DAILY, f)


def fees_by_method(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, FEES_BY_METHOD, f)


def ledger_balances(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, LEDGER_BALANCES, f)


def ledger_movements(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, LEDGER_MOVEMENTS, f)


def reconciliation(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, RECONCILIATION, f)


# -- logistics --------------------------------------------------------------------------------

_SHIPMENTS = """
shipments as (
    select * from fct_shipments
    where is_shipped and shipped_date between $start and $end
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], ship_region))
)"""

LOGISTICS_TOTALS = f"""
with {_SHIPMENTS.replace("$start", "$fstart").replace("$end", "$fend")}
select count(*) as shipments,
    count(*) filter (where is_dispatched_on_time) as dispatched_on_time,
    count(*) filter (where is_delivered) as delivered,
    count(*) filter (where is_delivered_on_time) as delivered_on_time,
    count(*) filter (where has_exception) as exceptions,
    median(transit_days) as median_transit_days
from shipments
"""

BY_CARRIER = f"""
with {_SHIPMENTS}
select carrier_name || ' · ' || carrier_service_name as carrier, count(*) as shipments,
    count(*) filter (where is_dispatched_on_time) as dispatched_on_time,
    count(*) filter (where is_delivered) as delivered,
    count(*) filter (where is_delivered_on_time) as delivered_on_time,
    count(*) filter (where has_exception) as exceptions,
    median(transit_days) as median_transit_days
from shipments group by 1 order by shipments desc
"""

SHIPPED_WEEKLY = """
select shipped_week as week, carrier_code, sum(shipments)::bigint as shipments,
    sum(dispatched_on_time)::bigint as dispatched_on_time, sum(delivered)::bigint as delivered,
    sum(delivered_on_time)::bigint as delivered_on_time, sum(exceptions)::bigint as exceptions
from mart_delivery_performance
where shipped_week between date_trunc('week', $start::date) and $end
    and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], ship_region))
group by all order by 1, 2
"""


def logistics_totals(snap: Snapshot, f: FilterValues, start: date, end: date) -> dict[str, Any]:
    return run(snap, LOGISTICS_TOTALS, f, fstart=start, fend=end).iloc[0].to_dict()


def by_carrier(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, BY_CARRIER, f)


def shipped_weekly(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, SHIPPED_WEEKLY, f)


# -- drill-downs: the rows behind a figure ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drill:
    """Rows of a fact that make a figure; ``columns`` are the ones a check may sum."""

    sql: str
    columns: tuple[str, ...]
    money: tuple[str, ...] = ()


_DEMAND_WHERE_LINES = f"sale_date between $start and $end and {_LINE_DIMS}"

DRILLS: dict[str, Drill] = {
    "sale_lines": Drill(
        f"""with {_LINES}
        select order_id, order_line_id, sale_date, sku_id, product_id, category_id, sales_channel,
            traffic_source, ship_region, 1 as lines, quantity, gross_minor, discount_minor, sales_minor,
            returns_minor as lifetime_returns_minor, net_minor, tax_minor, cogs_minor
        from lines order by sale_date, order_id, order_line_id""",
        ("lines", "quantity", "gross_minor", "discount_minor", "sales_minor", "cogs_minor", "tax_minor"),
        (
            "gross_minor",
            "discount_minor",
            "sales_minor",
            "lifetime_returns_minor",
            "net_minor",
            "tax_minor",
            "cogs_minor",
        ),
    ),
    "orders": Drill(
        f"""with {_LINES}
        select order_id, min(sale_date) as sale_date, any_value(sales_channel) as sales_channel,
            any_value(traffic_source) as traffic_source, any_value(ship_region) as ship_region,
            1 as orders, count(*) as lines, sum(quantity)::bigint as units,
            sum(sales_minor)::bigint as sales_minor
        from lines group by order_id order by sale_date, order_id""",
        ("orders", "units", "sales_minor"),
        ("sales_minor",),
    ),
    "returns": Drill(
        f"""with {_RETURNS}
        select return_id, return_kind, refund_id, order_id, order_line_id, is_by_lines, return_date, quantity,
            returns_minor, sales_channel, traffic_source, ship_region, category_id
        from returns order by return_date, return_id""",
        ("returns_minor", "quantity"),
        ("returns_minor",),
    ),
    # Net revenue = the period's sales after discounts minus the period's returns, row by row.
    "net_revenue": Drill(
        f"""with {_LINES}, {_RETURNS}
        select 'sale' as kind, order_id, order_line_id, sale_date as day, gross_minor, discount_minor,
            0::bigint as returns_minor, sales_minor as net_minor, cogs_minor,
            sales_minor - cogs_minor as margin_minor
        from lines
        union all
        select 'return', order_id, coalesce(order_line_id, return_id), return_date, 0, 0, returns_minor,
            -returns_minor, 0, -returns_minor
        from returns
        order by day, order_id, kind""",
        ("net_minor", "gross_minor", "discount_minor", "returns_minor", "cogs_minor", "margin_minor"),
        ("gross_minor", "discount_minor", "returns_minor", "net_minor", "cogs_minor", "margin_minor"),
    ),
    "sessions": Drill(
        """select session_id, started_date, traffic_source, device, customer_id, has_viewed_item,
            has_added_to_cart, has_begun_checkout, has_added_payment_info, has_purchased,
            1 as sessions, has_added_to_cart::int as carts, has_purchased::int as purchasing_sessions,
            purchases, purchase_value_minor
        from fct_sessions
        where started_date between $start and $end
            and (len($sources::varchar[]) = 0 or list_contains($sources::varchar[], traffic_source))
        order by started_at, session_id""",
        ("sessions", "carts", "purchasing_sessions", "purchases", "purchase_value_minor"),
        ("purchase_value_minor",),
    ),
    "cohort_orders": Drill(
        """with firsts as (
            select customer_id, min(sale_month) as cohort_month
            from fct_order_lines where customer_id is not null group by 1
        )
        select l.order_id, l.customer_id, f.cohort_month, l.sale_month as activity_month,
            min(l.sale_date) as sale_date, 1 as orders, sum(l.net_minor)::bigint as lines_net_minor
        from fct_order_lines as l join firsts as f using (customer_id)
        where f.cohort_month = $cohort_month and l.sale_month = $activity_month
        group by all order by sale_date, order_id""",
        ("orders", "lines_net_minor"),
        ("lines_net_minor",),
    ),
    "stockout_days": Drill(
        f"""with sku_categories as ({{sku_categories}})
        select sku_id, warehouse_id, stock_date, on_hand, reserved, available, 1 as stockout_days
        from mart_stock_daily where is_stockout and stock_date between $start and $end and {_IN_CATEGORIES}
        order by stock_date, sku_id, warehouse_id""",
        ("stockout_days",),
    ),
    "ledger_revenue": Drill(
        """select ledger_line_id, posting_id, posting_kind, order_id, payment_id, ledger_account,
            posted_date, debit_minor, credit_minor, credit_minor - debit_minor as revenue_minor
        from fct_ledger_lines
        where ledger_account in ('sales_revenue', 'shipping_revenue') and posted_date between $start and $end
        order by posted_at, ledger_line_id""",
        ("revenue_minor",),
        ("debit_minor", "credit_minor", "revenue_minor"),
    ),
    "ledger_refunds": Drill(
        """select ledger_line_id, posting_id, order_id, payment_id, ledger_account, posted_date,
            debit_minor, credit_minor, debit_minor - credit_minor as refunds_minor
        from fct_ledger_lines where ledger_account = 'refunds' and posted_date between $start and $end
        order by posted_at, ledger_line_id""",
        ("refunds_minor",),
        ("debit_minor", "credit_minor", "refunds_minor"),
    ),
    "provider_fees": Drill(
        """select ledger_line_id, posting_id, order_id, payment_id, payment_method, payment_provider,
            posted_date, debit_minor - credit_minor as fee_minor
        from fct_ledger_lines where ledger_account = 'provider_fees' and posted_date between $start and $end
        order by posted_at, ledger_line_id""",
        ("fee_minor",),
        ("fee_minor",),
    ),
    "reconciliation_orders": Drill(
        """select order_id, reconciliation_date, status, order_status, is_paid, sales_figure_minor,
            ledger_figure_minor, difference_minor, 1 as orders
        from fct_order_reconciliation where reconciliation_date between $start and $end
        order by reconciliation_date, order_id""",
        ("orders", "sales_figure_minor", "ledger_figure_minor", "difference_minor"),
        ("sales_figure_minor", "ledger_figure_minor", "difference_minor"),
    ),
    "market_lines": Drill(
        f"""select order_id, order_line_id, sale_date, category_name, sales_channel, traffic_source,
            ship_region, discount_band, quantity, unit_price_minor, gross_minor, discount_minor,
            gross_minor - discount_minor as sales_minor, returns_minor, net_minor
        from fct_market_order_lines where {_DEMAND_WHERE_LINES}
        order by sale_date, order_id, order_line_id""",
        ("quantity", "sales_minor", "net_minor", "discount_minor", "gross_minor"),
        ("unit_price_minor", "gross_minor", "discount_minor", "sales_minor", "returns_minor", "net_minor"),
    ),
    "shipments": Drill(
        f"""with {_SHIPMENTS}
        select shipment_id, order_id, carrier_name, carrier_service_name, warehouse_code, ship_region,
            shipped_date, promised_dispatch_by, shipped_at, promised_delivery_date, delivered_date,
            transit_days, last_tracking_status, 1 as shipments, is_dispatched_on_time::int as dispatched_on_time,
            is_delivered::int as delivered, coalesce(is_delivered_on_time, false)::int as delivered_on_time,
            has_exception::int as exceptions
        from shipments order by shipped_at, shipment_id""",
        ("shipments", "dispatched_on_time", "delivered", "delivered_on_time", "exceptions"),
    ),
}


def _drill_sql(snap: Snapshot, name: str, where: str | None) -> str:
    drill = DRILLS[name]
    sql = _with_sku_categories(snap, drill.sql)
    if where is None:
        return sql
    if where not in drill.columns:
        raise ValueError(f"{name} has no column {where}")
    return f"select * from ({sql}) where {_identifier(where)} <> 0"


def drill_rows(
    snap: Snapshot,
    name: str,
    f: FilterValues | None,
    *,
    where: str | None = None,
    limit: int = DRILL_LIMIT,
    **extra: Any,
) -> pd.DataFrame:
    """The first ``limit`` rows behind a figure (``where``: keep rows where that column is not 0)."""
    return run(snap, f"select * from ({_drill_sql(snap, name, where)}) limit $limit", f, limit=limit, **extra)


def drill_total(
    snap: Snapshot, name: str, column: str, f: FilterValues | None, *, where: str | None = None, **extra: Any
) -> tuple[int, int]:
    """(rows, Σ column) over every row behind a figure, summed in SQL."""
    if column not in DRILLS[name].columns:
        raise ValueError(f"{name} has no column {column}")
    sql = (
        f"select count(*) as n, coalesce(sum({_identifier(column)}), 0)::hugeint as total "
        f"from ({_drill_sql(snap, name, where)})"
    )
    row = run(snap, sql, f, **extra).iloc[0]
    return int(row["n"]), int(row["total"])


def drill_csv(
    snap: Snapshot, name: str, f: FilterValues | None, *, where: str | None = None, **extra: Any
) -> bytes:
    """Every row behind a figure as CSV (runs when the download is clicked)."""
    return run_uncached(snap, _drill_sql(snap, name, where), f, **extra).to_csv(index=False).encode()


# -- market (ANA-3) and the other newer marts ---------------------------------------------------

MARKET_TABLES = (
    "mart_market_demand_daily",
    "mart_discount_bands_daily",
    "mart_sku_price_periods",
    "mart_traffic_demand_daily",
)

_DEMAND_WHERE = f"sale_date between $start and $end and {_LINE_DIMS}"

MARKET_DEMAND_BY = f"""
select {{dim}} as value, sum(orders)::bigint as orders, sum(units)::bigint as units,
    sum(gross_minor)::bigint as gross_minor, sum(discount_minor)::bigint as discount_minor,
    sum(gross_minor - discount_minor)::bigint as sales_minor, sum(net_minor)::bigint as net_minor
from mart_market_demand_daily where {_DEMAND_WHERE}
group by 1 order by sales_minor desc
"""

MARKET_DEMAND_TOTALS = f"""
select coalesce(sum(units), 0)::bigint as units,
    coalesce(sum(gross_minor - discount_minor), 0)::bigint as sales_minor,
    coalesce(sum(net_minor), 0)::bigint as net_minor
from mart_market_demand_daily where {_DEMAND_WHERE}
"""

MARKET_DEMAND_WEEKLY = f"""
select date_trunc('week', sale_date)::date as week, category_name as category, sum(units)::bigint as units,
    sum(gross_minor - discount_minor)::bigint as sales_minor
from mart_market_demand_daily where {_DEMAND_WHERE}
group by all order by 1, 2
"""

DISCOUNT_BANDS = """
select discount_band_no, discount_band, sum(order_lines)::bigint as order_lines, sum(units)::bigint as units,
    sum(gross_minor)::bigint as gross_minor, sum(discount_minor)::bigint as discount_minor,
    sum(net_minor)::bigint as net_minor
from mart_discount_bands_daily
where sale_date between $start and $end
    and (len($channels::varchar[]) = 0 or list_contains($channels::varchar[], sales_channel))
group by all order by discount_band_no
"""

PRICE_PERIODS = """
with periods as (
    select * from mart_sku_price_periods
    where effective_from::date <= $end and (effective_until is null or effective_until::date >= $start)
        and (len($categories::varchar[]) = 0 or list_contains($categories::varchar[], category_id))
),
changed as (select sku_id from periods group by sku_id having count(*) > 1)
select p.sku_id, p.sku_code, p.product_name, p.category_name, p.period_no, p.price_reason, p.is_current_price,
    p.price_minor, p.compare_at_minor, p.days_at_price, p.units, p.units_per_day, p.view_item_sessions,
    p.view_to_cart_rate, p.view_to_order_rate, p.net_minor, p.effective_from, p.effective_until
from periods as p join changed using (sku_id)
order by p.net_minor desc, p.sku_id, p.period_no
limit $limit
"""

PRICE_REASONS = """
select coalesce(price_reason, 'list') as price_reason, count(*) as periods, sum(days_at_price) as days_at_price,
    sum(units)::bigint as units, sum(view_item_sessions)::bigint as view_item_sessions
from mart_sku_price_periods
where effective_from::date <= $end and (effective_until is null or effective_until::date >= $start)
    and (len($categories::varchar[]) = 0 or list_contains($categories::varchar[], category_id))
group by 1 order by units desc
"""

TRAFFIC_DEMAND = """
select traffic_source, utm_source, utm_medium, sum(sessions)::bigint as sessions,
    sum(purchasing_sessions)::bigint as purchasing_sessions, sum(orders)::bigint as orders,
    sum(units)::bigint as units, sum(gross_minor - discount_minor)::bigint as sales_minor,
    sum(net_minor)::bigint as net_minor
from mart_traffic_demand_daily
where session_date between $start and $end
    and (len($sources::varchar[]) = 0 or list_contains($sources::varchar[], traffic_source))
group by all order by sessions desc
"""

NEW_VS_RETURNING = """
select sale_date as day, buyer_type, sum(orders)::bigint as orders, sum(buyers)::bigint as buyers,
    sum(gross_minor - discount_minor)::bigint as sales_minor
from mart_new_vs_returning_daily where sale_date between $start and $end
group by all order by 1, 2
"""

MARKET_DIMENSIONS = ("category_name", "ship_region", "traffic_source", "sales_channel")


def market_missing(snap: Snapshot) -> list[str]:
    return [t for t in MARKET_TABLES if not snap.has(t)]


def market_demand_by(snap: Snapshot, f: FilterValues, dimension: str) -> pd.DataFrame:
    if dimension not in MARKET_DIMENSIONS:
        raise ValueError(dimension)
    return run(snap, MARKET_DEMAND_BY.replace("{dim}", dimension), f)


def market_demand_totals(snap: Snapshot, f: FilterValues) -> dict[str, int]:
    return {k: int(v) for k, v in run(snap, MARKET_DEMAND_TOTALS, f).iloc[0].items()}


def market_demand_weekly(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, MARKET_DEMAND_WEEKLY, f)


def discount_bands(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, DISCOUNT_BANDS, f)


def price_periods(snap: Snapshot, f: FilterValues, limit: int = 400) -> pd.DataFrame:
    return run(snap, PRICE_PERIODS, f, limit=limit)


def price_reasons(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, PRICE_REASONS, f)


def traffic_demand(snap: Snapshot, f: FilterValues) -> pd.DataFrame:
    return run(snap, TRAFFIC_DEMAND, f)


def new_vs_returning(snap: Snapshot, f: FilterValues) -> pd.DataFrame | None:
    if not snap.has("mart_new_vs_returning_daily"):
        return None
    return run(snap, NEW_VS_RETURNING, f)


PRODUCT_LABEL_SOURCES = ("mart_sku_price_periods", "mart_sales_by_sku_daily")


def product_labels(snap: Snapshot) -> dict[str, str]:
    """Product names when a published mart carries them; ids otherwise."""
    for table in PRODUCT_LABEL_SOURCES:
        if snap.has(table):
            df = run(snap, f"select distinct product_id, product_name from {_identifier(table)}")
            return dict(zip(df["product_id"], df["product_name"], strict=False))
    return {}
