-- Grain: store-local day the session started × traffic source × utm source ×
-- utm medium (the session's first client event; DECISIONLOG.md §12). Sessions
-- are the denominator, so orders are dated and attributed by their session
-- too (as mart_funnel_daily dates purchases): conversion = sessions with a
-- paid order / sessions. An order whose session is not in the clickstream
-- keeps its own attribution and sale day, with no session to count.

with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

order_lines as (

    select * from {{ ref('fct_market_order_lines') }}

),

attributed_sessions as (

    select
        sessions.session_id,
        sessions.started_date,
        sessions.traffic_source,
        coalesce(sessions.utm_source, '(none)') as utm_source,
        coalesce(sessions.utm_medium, '(none)') as utm_medium

    from sessions

),

orders as (

    select
        order_id,
        session_id,
        sale_date,
        traffic_source,
        utm_source,
        utm_medium,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from order_lines
    group by 1, 2, 3, 4, 5, 6

),

attributed_orders as (

    select
        orders.order_id,
        attributed_sessions.session_id,
        coalesce(attributed_sessions.started_date, orders.sale_date) as session_date,
        coalesce(attributed_sessions.traffic_source, orders.traffic_source)
            as traffic_source,
        coalesce(attributed_sessions.utm_source, orders.utm_source) as utm_source,
        coalesce(attributed_sessions.utm_medium, orders.utm_medium) as utm_medium,
        orders.units,
        orders.gross_minor,
        orders.discount_minor,
        orders.returns_minor,
        orders.net_minor

    from orders
    left join attributed_sessions
        on orders.session_id = attributed_sessions.session_id

),

sessions_by_day as (

    select
        started_date as session_date,
        traffic_source,
        utm_source,
        utm_medium,
        count(*) as sessions

    from attributed_sessions
    group by 1, 2, 3, 4

),

orders_by_day as (

    select
        session_date,
        traffic_source,
        utm_source,
        utm_medium,
        count(distinct session_id) as purchasing_sessions,
        count(*) as orders,
        sum(units) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(net_minor) as net_minor

    from attributed_orders
    group by 1, 2, 3, 4

),

keys as (

    select
        session_date,
        traffic_source,
        utm_source,
        utm_medium
    from sessions_by_day
    union
    select
        session_date,
        traffic_source,
        utm_source,
        utm_medium
    from orders_by_day

),

final as (

    select
        ---------- dates
        keys.session_date,
        ---------- strings
        keys.traffic_source,
        keys.utm_source,
        keys.utm_medium,
        ---------- numerics
        cast(coalesce(sessions_by_day.sessions, 0) as {{ dbt.type_bigint() }})
            as sessions,
        cast(
            coalesce(orders_by_day.purchasing_sessions, 0) as {{ dbt.type_bigint() }}
        ) as purchasing_sessions,
        cast(coalesce(orders_by_day.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(orders_by_day.units, 0) as {{ dbt.type_bigint() }}) as units,
        cast(coalesce(orders_by_day.gross_minor, 0) as {{ dbt.type_bigint() }})
            as gross_minor,
        cast(coalesce(orders_by_day.discount_minor, 0) as {{ dbt.type_bigint() }})
            as discount_minor,
        cast(coalesce(orders_by_day.returns_minor, 0) as {{ dbt.type_bigint() }})
            as returns_minor,
        cast(coalesce(orders_by_day.net_minor, 0) as {{ dbt.type_bigint() }})
            as net_minor,
        {{ minor_to_amount('coalesce(orders_by_day.net_minor, 0)') }} as net_amount,
        cast(
            cast(coalesce(orders_by_day.purchasing_sessions, 0) as decimal(18, 6))
            / nullif(sessions_by_day.sessions, 0)
            as decimal(9, 6)
        ) as conversion_rate

    from keys
    left join sessions_by_day
        on
            keys.session_date = sessions_by_day.session_date
            and keys.traffic_source = sessions_by_day.traffic_source
            and keys.utm_source = sessions_by_day.utm_source
            and keys.utm_medium = sessions_by_day.utm_medium
    left join orders_by_day
        on
            keys.session_date = orders_by_day.session_date
            and keys.traffic_source = orders_by_day.traffic_source
            and keys.utm_source = orders_by_day.utm_source
            and keys.utm_medium = orders_by_day.utm_medium

)

select * from final
