-- Storefront events that belong to a session's funnel, one row per event_id.
-- The writer already drops repeated event ids within 72 h; a server event
-- re-emitted later would not be caught there, so the first committed copy wins
-- here too (DECISIONLOG.md §7). Refund events carry the order's session but
-- happen long after it, so they are no part of a session.
--
-- Incremental (DECISIONLOG.md §18): the event journal only grows, so each run
-- appends the events committed after the newest commit already here whose
-- event_id is not here yet. That keeps "the first committed copy wins" exact,
-- and late events (occurred days ago, committed now) are never missed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

with

events as (

    select * from {{ ref('stg_lake__storefront_events') }}
    {% if is_incremental() %}
        where commit_seq > (
            select coalesce(max(commit_seq), 0) from {{ this }}
        )
    {% endif %}

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
        utm_source,
        utm_medium,
        utm_campaign,
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
    {% if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as already
            where already.event_id = ranked.event_id
        )
    {% endif %}

)

select * from deduplicated
