-- Metric identity (BEY-3): the sales marts by SKU and by channel re-add to
-- mart_daily_sales. Σ net, gross, discounts, returns, tax and units of
-- mart_sales_by_sku_daily and of mart_sales_by_channel_daily equal the daily
-- mart's, day by day; orders and shipping of the channel mart too (each order
-- is in one channel row). Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_sales_by_sku_daily'}}}) }}


with

daily as (

    select * from {{ ref('mart_daily_sales') }}

),

by_sku as (

    select * from {{ ref('mart_sales_by_sku_daily') }}

),

by_channel as (

    select * from {{ ref('mart_sales_by_channel_daily') }}

),

sku_days as (

    select
        sale_date,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor,
        sum(tax_minor) as tax_minor,
        sum(units) as units

    from by_sku
    group by 1

),

channel_days as (

    select
        sale_date,
        sum(orders) as orders,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor,
        sum(tax_minor) as tax_minor,
        sum(shipping_minor) as shipping_minor,
        sum(units) as units

    from by_channel
    group by 1

),

sku_failures as (

    select
        'mart_sales_by_sku_daily differs on '
        || cast(coalesce(daily.sale_date, sku_days.sale_date) as {{ dbt.type_string() }})
            as failure

    from daily
    full outer join sku_days
        on daily.sale_date = sku_days.sale_date
    where
        coalesce(daily.net_minor, 0) <> coalesce(sku_days.net_minor, 0)
        or coalesce(daily.gross_minor, 0) <> coalesce(sku_days.gross_minor, 0)
        or coalesce(daily.discount_minor, 0) <> coalesce(sku_days.discount_minor, 0)
        or coalesce(daily.returns_minor, 0) <> coalesce(sku_days.returns_minor, 0)
        or coalesce(daily.tax_minor, 0) <> coalesce(sku_days.tax_minor, 0)
        or coalesce(daily.units, 0) <> coalesce(sku_days.units, 0)

),

channel_failures as (

    select
        'mart_sales_by_channel_daily differs on '
        || cast(
            coalesce(daily.sale_date, channel_days.sale_date) as {{ dbt.type_string() }}
        ) as failure

    from daily
    full outer join channel_days
        on daily.sale_date = channel_days.sale_date
    where
        coalesce(daily.net_minor, 0) <> coalesce(channel_days.net_minor, 0)
        or coalesce(daily.orders, 0) <> coalesce(channel_days.orders, 0)
        or coalesce(daily.gross_minor, 0) <> coalesce(channel_days.gross_minor, 0)
        or coalesce(daily.discount_minor, 0) <> coalesce(channel_days.discount_minor, 0)
        or coalesce(daily.returns_minor, 0) <> coalesce(channel_days.returns_minor, 0)
        or coalesce(daily.tax_minor, 0) <> coalesce(channel_days.tax_minor, 0)
        or coalesce(daily.shipping_minor, 0) <> coalesce(channel_days.shipping_minor, 0)
        or coalesce(daily.units, 0) <> coalesce(channel_days.units, 0)

)

select * from sku_failures
union all
select * from channel_failures
