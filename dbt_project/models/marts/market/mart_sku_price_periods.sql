-- Grain: one price period of a SKU (int_sku_prices_spanned_to_periods): how
-- the SKU sold and was looked at while it had that price. Descriptive only:
-- periods differ in season, stock, markdown reason and traffic as well as in
-- price, so comparing them is no elasticity estimate.
-- Exposure runs from the period's start to its end or, for the current price,
-- to the end of what the snapshot saw (the latest order placed or storefront
-- event), in days with fractions, so a price that held for six hours is a
-- quarter of a day, not a whole one.

with

price_periods as (

    select * from {{ ref('int_sku_prices_spanned_to_periods') }}

),

order_lines as (

    select * from {{ ref('fct_market_order_lines') }}

),

item_events as (

    select * from {{ ref('fct_sku_item_events') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

events as (

    select * from {{ ref('stg_lake__storefront_events') }}

),

skus as (

    select * from {{ ref('stg_lake__skus') }}

),

products as (

    select * from {{ ref('stg_lake__products') }}

),

categories as (

    select * from {{ ref('stg_lake__categories') }}

),

observed as (

    select max(seen_at) as observed_until
    from (
        select max(placed_at) as seen_at from orders
        union all
        select max(occurred_at) as seen_at from events
    ) as latest

),

exposure as (

    select
        price_periods.*,
        case
            when
                price_periods.effective_until is null
                or price_periods.effective_until > observed.observed_until
                then observed.observed_until
            else price_periods.effective_until
        end as exposed_until

    from price_periods
    cross join observed

),

sales as (

    select
        price_id,
        count(*) as order_lines,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from order_lines
    where price_id is not null
    group by 1

),

interest as (

    select
        price_id,
        sum(case when event_name = 'view_item' then 1 else 0 end) as view_item_events,
        count(distinct case when event_name = 'view_item' then session_id end)
            as view_item_sessions,
        sum(case when event_name = 'add_to_cart' then 1 else 0 end)
            as add_to_cart_events,
        count(distinct case when event_name = 'add_to_cart' then session_id end)
            as add_to_cart_sessions

    from item_events
    where price_id is not null
    group by 1

),

joined as (

    select
        exposure.price_id,
        exposure.sku_id,
        exposure.period_no,
        exposure.reason,
        exposure.price_minor,
        exposure.compare_at_minor,
        exposure.effective_from,
        exposure.effective_until,
        -- A price set to start after the snapshot's end has no exposure yet.
        case
            when exposure.exposed_until > exposure.effective_from
                then {{ dbt.datediff(
                    'exposure.effective_from', 'exposure.exposed_until', 'minute'
                ) }}
            else 0
        end as exposed_minutes,
        coalesce(sales.order_lines, 0) as order_lines,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.units, 0) as units,
        coalesce(sales.gross_minor, 0) as gross_minor,
        coalesce(sales.discount_minor, 0) as discount_minor,
        coalesce(sales.returns_minor, 0) as returns_minor,
        coalesce(sales.net_minor, 0) as net_minor,
        coalesce(interest.view_item_events, 0) as view_item_events,
        coalesce(interest.view_item_sessions, 0) as view_item_sessions,
        coalesce(interest.add_to_cart_events, 0) as add_to_cart_events,
        coalesce(interest.add_to_cart_sessions, 0) as add_to_cart_sessions

    from exposure
    left join sales
        on exposure.price_id = sales.price_id
    left join interest
        on exposure.price_id = interest.price_id

),

final as (

    select
        ---------- ids
        joined.price_id,
        joined.sku_id,
        skus.product_id,
        products.category_id,
        ---------- strings
        skus.sku_code,
        skus.sku_name,
        products.product_name,
        categories.category_name,
        joined.reason as price_reason,
        ---------- booleans
        joined.effective_until is null as is_current_price,
        ---------- numerics
        cast(joined.period_no as {{ dbt.type_bigint() }}) as period_no,
        joined.price_minor,
        joined.compare_at_minor,
        {{ minor_to_amount('joined.price_minor') }} as price_amount,
        cast(
            cast(joined.exposed_minutes as decimal(18, 4)) / 1440 as decimal(9, 2)
        ) as days_at_price,
        cast(joined.order_lines as {{ dbt.type_bigint() }}) as order_lines,
        cast(joined.orders as {{ dbt.type_bigint() }}) as orders,
        cast(joined.units as {{ dbt.type_bigint() }}) as units,
        cast(joined.gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(joined.discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(joined.returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(joined.net_minor as {{ dbt.type_bigint() }}) as net_minor,
        {{ minor_to_amount('joined.net_minor') }} as net_amount,
        cast(
            cast(joined.units as decimal(18, 4)) * 1440
            / nullif(joined.exposed_minutes, 0)
            as decimal(18, 4)
        ) as units_per_day,
        cast(joined.view_item_events as {{ dbt.type_bigint() }}) as view_item_events,
        cast(joined.view_item_sessions as {{ dbt.type_bigint() }})
            as view_item_sessions,
        cast(joined.add_to_cart_events as {{ dbt.type_bigint() }})
            as add_to_cart_events,
        cast(joined.add_to_cart_sessions as {{ dbt.type_bigint() }})
            as add_to_cart_sessions,
        cast(
            cast(joined.add_to_cart_sessions as decimal(18, 6))
            / nullif(joined.view_item_sessions, 0)
            as decimal(9, 6)
        ) as view_to_cart_rate,
        cast(
            cast(joined.orders as decimal(18, 6))
            / nullif(joined.view_item_sessions, 0)
            as decimal(9, 6)
        ) as view_to_order_rate,
        ---------- timestamps
        joined.effective_from,
        joined.effective_until

    from joined
    left join skus
        on joined.sku_id = skus.sku_id
    left join products
        on skus.product_id = products.product_id
    left join categories
        on products.category_id = categories.category_id

)

select * from final
