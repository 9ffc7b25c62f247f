-- Grain: store-local day the session started × traffic source × device.
-- Each step counts the sessions that reached it (flags of fct_sessions);
-- purchases count paid orders of those sessions (a session normally holds
-- one), dated by the session's start day, as the ground truth does.
-- Conversion = purchasing sessions / sessions.

with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

by_day as (

    select
        started_date as session_date,
        traffic_source,
        device,
        count(*) as sessions,
        sum(case when has_viewed_item then 1 else 0 end) as view_item_sessions,
        sum(case when has_added_to_cart then 1 else 0 end)
            as add_to_cart_sessions,
        sum(case when has_begun_checkout then 1 else 0 end)
            as begin_checkout_sessions,
        sum(case when has_added_payment_info then 1 else 0 end)
            as add_payment_info_sessions,
        sum(case when has_purchased then 1 else 0 end) as purchase_sessions,
        sum(purchases) as purchases,
        sum(purchase_value_minor) as purchase_value_minor

    from sessions
    group by 1, 2, 3

),

final as (

    select
        ---------- dates
        session_date,
        ---------- strings
        traffic_source,
        device,
        ---------- numerics
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(view_item_sessions as {{ dbt.type_bigint() }}) as view_item_sessions,
        cast(add_to_cart_sessions as {{ dbt.type_bigint() }})
            as add_to_cart_sessions,
        cast(begin_checkout_sessions as {{ dbt.type_bigint() }})
            as begin_checkout_sessions,
        cast(add_payment_info_sessions as {{ dbt.type_bigint() }})
            as add_payment_info_sessions,
        cast(purchase_sessions as {{ dbt.type_bigint() }}) as purchase_sessions,
        cast(purchases as {{ dbt.type_bigint() }}) as purchases,
        cast(purchase_value_minor as {{ dbt.type_bigint() }})
            as purchase_value_minor,
        {{ minor_to_amount('purchase_value_minor') }} as purchase_value_amount,
        cast(
            cast(purchase_sessions as decimal(18, 6)) / nullif(sessions, 0)
            as decimal(9, 6)
        ) as conversion_rate,
        cast(
            cast(add_to_cart_sessions - purchase_sessions as decimal(18, 6))
            / nullif(add_to_cart_sessions, 0)
            as decimal(9, 6)
        ) as cart_abandonment_rate

    from by_day

)

select * from final
