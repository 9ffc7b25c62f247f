-- Grain: one storefront session, with the utm tags of its first client event
-- (the same event fct_sessions takes its traffic source from; DECISIONLOG.md
-- §12). fct_sessions belongs to the behaviour marts and carries only the
-- channel grouping, so the tags are attributed here.

with

events as (

    select * from {{ ref('stg_lake__storefront_events') }}

),

first_copies as (

    select
        *,
        row_number() over (
            partition by event_id
            order by commit_seq, received_at
        ) as copy_no

    from events
    where
        event_source = 'client'
        and session_id is not null

),

ranked as (

    select
        session_id,
        utm_source,
        utm_medium,
        utm_campaign,
        row_number() over (
            partition by session_id
            order by occurred_at, event_id
        ) as event_no

    from first_copies
    where copy_no = 1

),

final as (

    select
        session_id,
        utm_source,
        utm_medium,
        utm_campaign

    from ranked
    where event_no = 1

)

select * from final
