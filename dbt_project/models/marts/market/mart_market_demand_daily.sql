-- Grain: store-local sale day × category × sales channel × traffic source ×
-- ship-to country × ship-to region, from fct_market_order_lines. Demand is
-- dated by the day the order became paid; returns are the lines' returns
-- whenever made (net = the net of that day's sales). Units and money add up
-- across every column; orders count distinct orders per row, so an order
-- buying from two categories counts once in each.

with

order_lines as (

    select * from {{ ref('fct_market_order_lines') }}

),

by_day as (

    select
        sale_date,
        category_id,
        category_name,
        sales_channel,
        traffic_source,
        ship_country,
        ship_region,
        count(*) as order_lines,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from order_lines
    group by 1, 2, 3, 4, 5, 6, 7

),

final as (

    select
        ---------- dates
        sale_date,
        ---------- ids
        category_id,
        ---------- strings
        category_name,
        sales_channel,
        traffic_source,
        ship_country,
        ship_region,
        ---------- numerics
        cast(order_lines as {{ dbt.type_bigint() }}) as order_lines,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(net_minor as {{ dbt.type_bigint() }}) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount

    from by_day

)

select * from final
