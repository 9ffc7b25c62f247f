-- Grain: store-local sale day × buyer type (new, returning) × account or
-- guest. Orders, buyers, units and money of the orders paid that day, from
-- fct_buyer_orders; returns are those orders' returns whenever made (so a
-- day's net here is the net of its sales, unlike mart_daily_sales, which
-- dates returns by the refund day).

with

buyer_orders as (

    select * from {{ ref('fct_buyer_orders') }}

),

by_day as (

    select
        sale_date,
        buyer_type,
        is_guest,
        count(*) as orders,
        count(distinct buyer_key) as buyers,
        sum(units) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from buyer_orders
    group by 1, 2, 3

),

final as (

    select
        ---------- dates
        sale_date,
        ---------- strings
        buyer_type,
        ---------- booleans
        is_guest,
        ---------- numerics
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(buyers as {{ dbt.type_bigint() }}) as buyers,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(net_minor as {{ dbt.type_bigint() }}) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount,
        cast(
            {{ minor_to_amount('gross_minor - discount_minor') }}
            / nullif(orders, 0) as decimal(18, 2)
        ) as aov_amount

    from by_day

)

select * from final
