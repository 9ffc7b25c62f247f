-- Storefront events that belong to a session's funnel, one row per event_id.
-- The writer already drops repeated event ids within 72 h; a server event
-- re-emitted later would not be caught there, so the first committed copy wins
-- here too (DECISIONLOG.md §7). Refund events carry the order's session but
-- happen long after it, so they are no part of a session.

with

events as (

    select * from {{ ref('stg_lake__storefront_events') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by commit_seq, received_at
        ) as copy_no

    from events

),

deduplicated as (

    select
        ---------- ids
        event_id,
        session_id,
        anonymous_id,
        customer_id,
        transaction_id,
        ---------- strings
        event_name,
        event_source,
        traffic_source,
        device,
        ---------- numerics
        value_minor,
        commit_seq,
        ---------- timestamps
        occurred_at,
        occurred_date

    from ranked
    where
        copy_no = 1
        and session_id is not null
        and event_name <> 'refund'

)

select * from deduplicated
