-- One row per shipment that has tracking events: how many scans, whether any
-- went to exception (a carrier problem, even when it recovered), and the last
-- status the carrier reported.

with

tracking_events as (

    select * from {{ ref('stg_lake__tracking_events') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by shipment_id
            order by occurred_at desc, commit_seq desc
        ) as recency_no

    from tracking_events

),

summarized as (

    select
        ---------- ids
        shipment_id,
        ---------- strings
        max(case when recency_no = 1 then tracking_event_status end)
            as last_tracking_status,
        ---------- numerics
        count(*) as tracking_events,
        sum(case when tracking_event_status = 'exception' then 1 else 0 end)
            as exception_events,
        ---------- timestamps
        min(case when tracking_event_status = 'exception' then occurred_at end)
            as first_exception_at,
        max(occurred_at) as last_tracked_at

    from ranked
    group by 1

)

select * from summarized
