-- Grain: one storefront session (session_id) from the clickstream. A session
-- starts at its first event and belongs to that instant's store-local day;
-- attribution (traffic source, device, anonymous id) is the first client
-- event's, utm tags included. Funnel steps are flags: the session sent at least one such client
-- event. A purchase is a server purchase event carrying the session's id (one
-- per paid order, keyed on the order id as transaction_id), so funnel
-- purchases are paid orders (BEY-7, DECISIONLOG.md §7).
--
-- Incremental (DECISIONLOG.md §18): a run rebuilds only the sessions that got
-- an event committed after the newest commit the table has seen (a late event
-- reopens its session), plus every session with an event on the days
-- refresh_from..refresh_to when a run asks for them (a backfill).
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
touched_sessions as (

    select distinct session_id
    from {{ ref('int_sessions_events_deduplicated') }}
    where
        commit_seq > (
            select coalesce(max(last_commit_seq), 0) from {{ this }}
        )
        {% if var('refresh_from', none) is not none %}
            or occurred_date between
            cast('{{ var("refresh_from") }}' as date)
            and cast('{{ var("refresh_to", var("refresh_from")) }}' as date)
        {% endif %}

),

{% endif %}
events as (

    select events.*
    from {{ ref('int_sessions_events_deduplicated') }} as events
    {% if is_incremental() %}
        inner join touched_sessions
            on events.session_id = touched_sessions.session_id
    {% endif %}

),

first_client_events as (

    select
        session_id,
        anonymous_id,
        traffic_source,
        utm_source,
        utm_medium,
        utm_campaign,
        device,
        row_number() over (
            partition by session_id
            order by occurred_at, event_id
        ) as event_no

    from events
    where event_source = 'client'

),

attribution as (

    select * from first_client_events
    where event_no = 1

),

steps as (

    select
        session_id,
        max(customer_id) as customer_id,
        min(case when event_source = 'client' then occurred_at end)
            as first_client_event_at,
        min(occurred_at) as first_event_at,
        max(case when event_source = 'client' then occurred_at end)
            as last_client_event_at,
        sum(case when event_source = 'client' then 1 else 0 end)
            as client_events,
        max(case when event_name = 'view_item_list' then 1 else 0 end)
            as viewed_item_list,
        max(case when event_name = 'view_item' then 1 else 0 end)
            as viewed_item,
        max(case when event_name = 'add_to_cart' then 1 else 0 end)
            as added_to_cart,
        max(case when event_name = 'begin_checkout' then 1 else 0 end)
            as began_checkout,
        max(case when event_name = 'add_payment_info' then 1 else 0 end)
            as added_payment_info,
        count(
            distinct case
                when event_source = 'server' and event_name = 'purchase'
                    then transaction_id
            end
        ) as purchases,
        sum(
            case
                when event_source = 'server' and event_name = 'purchase'
                    then value_minor
                else 0
            end
        ) as purchase_value_minor,
        min(
            case
                when event_source = 'server' and event_name = 'purchase'
                    then occurred_at
            end
        ) as first_purchase_at,
        max(commit_seq) as last_commit_seq

    from events
    group by 1

),

final as (

    select
        ---------- ids
        steps.session_id,
        attribution.anonymous_id,
        steps.customer_id,
        ---------- strings
        coalesce(attribution.traffic_source, 'unknown') as traffic_source,
        coalesce(attribution.device, 'unknown') as device,
        attribution.utm_source,
        attribution.utm_medium,
        attribution.utm_campaign,
        ---------- booleans
        steps.customer_id is not null as is_signed_in,
        steps.viewed_item_list = 1 as has_viewed_item_list,
        steps.viewed_item = 1 as has_viewed_item,
        steps.added_to_cart = 1 as has_added_to_cart,
        steps.began_checkout = 1 as has_begun_checkout,
        steps.added_payment_info = 1 as has_added_payment_info,
        steps.purchases > 0 as has_purchased,
        ---------- numerics
        cast(steps.client_events as {{ dbt.type_bigint() }}) as client_events,
        cast(steps.last_commit_seq as {{ dbt.type_bigint() }})
            as last_commit_seq,
        cast(steps.purchases as {{ dbt.type_bigint() }}) as purchases,
        cast(steps.purchase_value_minor as {{ dbt.type_bigint() }})
            as purchase_value_minor,
        {{ minor_to_amount('steps.purchase_value_minor') }}
            as purchase_value_amount,
        ---------- dates
        {{ store_local_date('coalesce(steps.first_client_event_at, steps.first_event_at)') }}
            as started_date,
        ---------- timestamps
        coalesce(steps.first_client_event_at, steps.first_event_at)
            as started_at,
        steps.last_client_event_at,
        steps.first_purchase_at

    from steps
    left join attribution
        on steps.session_id = attribution.session_id

)

select * from final
