-- Metric identity (BEY-3): market demand re-adds to the sales fact. Σ units,
-- gross, discounts and net of mart_market_demand_daily = Σ fct_order_lines,
-- day by day; Σ units and orders of mart_traffic_demand_daily = Σ
-- fct_order_lines units and paid orders; Σ units of mart_sku_price_periods
-- and of mart_discount_bands_daily = Σ fct_order_lines units. Every
-- returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_market_demand_daily'}}}) }}


with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

demand as (

    select * from {{ ref('mart_market_demand_daily') }}

),

traffic as (

    select * from {{ ref('mart_traffic_demand_daily') }}

),

price_periods as (

    select * from {{ ref('mart_sku_price_periods') }}

),

discount_bands as (

    select * from {{ ref('mart_discount_bands_daily') }}

),

line_days as (

    select
        sale_date,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(net_minor) as net_minor

    from order_lines
    group by 1

),

demand_days as (

    select
        sale_date,
        sum(units) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(net_minor) as net_minor

    from demand
    group by 1

),

day_failures as (

    select
        'mart_market_demand_daily differs on '
        || cast(
            coalesce(line_days.sale_date, demand_days.sale_date) as {{ dbt.type_string() }}
        ) as failure

    from line_days
    full outer join demand_days
        on line_days.sale_date = demand_days.sale_date
    where
        coalesce(line_days.units, 0) <> coalesce(demand_days.units, 0)
        or coalesce(line_days.gross_minor, 0) <> coalesce(demand_days.gross_minor, 0)
        or coalesce(line_days.discount_minor, 0) <> coalesce(demand_days.discount_minor, 0)
        or coalesce(line_days.net_minor, 0) <> coalesce(demand_days.net_minor, 0)

),

totals as (

    select
        (select coalesce(sum(quantity), 0) from order_lines) as line_units,
        (select count(distinct order_id) from order_lines) as line_orders,
        (select coalesce(sum(units), 0) from traffic) as traffic_units,
        (select coalesce(sum(orders), 0) from traffic) as traffic_orders,
        (select coalesce(sum(units), 0) from price_periods) as price_period_units,
        (select coalesce(sum(units), 0) from discount_bands) as discount_band_units

),

total_failures as (

    select 'market totals differ from fct_order_lines' as failure
    from totals
    where
        traffic_units <> line_units
        or traffic_orders <> line_orders
        or price_period_units <> line_units
        or discount_band_units <> line_units

)

select * from day_failures
union all
select * from total_failures
