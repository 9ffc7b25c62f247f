-- Grain: store-local sale day × sales channel × discount band (of the line's
-- discount depth, fct_market_order_lines). Descriptive: what sold at each
-- depth, not what a discount caused. No conversion here: a discount is known
-- only once a cart is priced, so no session or view is "at a depth" to divide
-- by. An order's discount is spread over its lines by list amount, so its
-- lines share a band except where rounding puts one across an edge; orders
-- count distinct orders per row.

with

order_lines as (

    select * from {{ ref('fct_market_order_lines') }}

),

by_day as (

    select
        sale_date,
        sales_channel,
        discount_band,
        discount_band_no,
        count(*) as order_lines,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from order_lines
    group by 1, 2, 3, 4

),

final as (

    select
        ---------- dates
        sale_date,
        ---------- strings
        sales_channel,
        discount_band,
        ---------- numerics
        discount_band_no,
        cast(order_lines as {{ dbt.type_bigint() }}) as order_lines,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(net_minor as {{ dbt.type_bigint() }}) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount,
        cast(
            cast(discount_minor as decimal(18, 6)) / nullif(gross_minor, 0)
            as decimal(9, 6)
        ) as discount_depth,
        cast(
            {{ minor_to_amount('gross_minor - discount_minor') }}
            / nullif(orders, 0) as decimal(18, 2)
        ) as aov_amount,
        cast(
            cast(units as decimal(18, 4)) / nullif(orders, 0) as decimal(18, 4)
        ) as units_per_order

    from by_day

)

select * from final
