-- Grain: store-local day × sales channel × traffic source × ship-to country ×
-- ship-to region. Every one is an attribute of the order, so each order, its
-- shipping and its returns fall in exactly one row and every measure adds up
-- across rows (AOV excepted: recompute it from the sums). Sales by the day the
-- order became paid, returns by the day the refund succeeded, as in
-- mart_daily_sales.

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

order_attributes as (

    select
        order_id,
        paid_date,
        shipping_minor,
        sales_channel,
        coalesce(traffic_source, 'unknown') as traffic_source,
        ship_country,
        ship_region

    from orders

),

lines_by_order as (

    select
        order_id,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(tax_minor) as tax_minor

    from order_lines
    group by 1

),

sales as (

    select
        order_attributes.paid_date as sale_date,
        order_attributes.sales_channel,
        order_attributes.traffic_source,
        order_attributes.ship_country,
        order_attributes.ship_region,
        1 as orders,
        coalesce(lines_by_order.units, 0) as units,
        coalesce(lines_by_order.gross_minor, 0) as gross_minor,
        coalesce(lines_by_order.discount_minor, 0) as discount_minor,
        coalesce(lines_by_order.tax_minor, 0) as tax_minor,
        order_attributes.shipping_minor,
        0 as returns_minor

    from order_attributes
    left join lines_by_order
        on order_attributes.order_id = lines_by_order.order_id

),

dated_returns as (

    select
        returns.return_date as sale_date,
        order_attributes.sales_channel,
        order_attributes.traffic_source,
        order_attributes.ship_country,
        order_attributes.ship_region,
        0 as orders,
        0 as units,
        0 as gross_minor,
        0 as discount_minor,
        0 as tax_minor,
        0 as shipping_minor,
        returns.returns_minor

    from returns
    inner join order_attributes
        on returns.order_id = order_attributes.order_id

),

unioned as (

    select * from sales
    union all
    select * from dated_returns

),

by_day as (

    select
        sale_date,
        sales_channel,
        traffic_source,
        ship_country,
        ship_region,
        sum(orders) as orders,
        sum(units) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(tax_minor) as tax_minor,
        sum(shipping_minor) as shipping_minor

    from unioned
    group by 1, 2, 3, 4, 5

),

final as (

    select
        ---------- dates
        sale_date,
        ---------- strings
        sales_channel,
        traffic_source,
        ship_country,
        ship_region,
        ---------- numerics
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(
            gross_minor - discount_minor - returns_minor as {{ dbt.type_bigint() }}
        ) as net_minor,
        cast(tax_minor as {{ dbt.type_bigint() }}) as tax_minor,
        cast(shipping_minor as {{ dbt.type_bigint() }}) as shipping_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        {{ minor_to_amount('returns_minor') }} as returns_amount,
        {{ minor_to_amount('gross_minor - discount_minor - returns_minor') }}
            as net_amount,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        {{ minor_to_amount('shipping_minor') }} as shipping_amount,
        cast(
            {{ minor_to_amount('gross_minor - discount_minor') }}
            / nullif(orders, 0) as decimal(18, 2)
        ) as aov_amount

    from by_day

)

select * from final
