-- The weekly delivery mart adds up to its fact: Σ shipments, on time,
-- delivered and exceptions over all weeks = the shipped parcels of
-- fct_shipments; and every parcel of fct_shipments is one of the store's.
-- Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_delivery_performance'}}}) }}


with

performance as (

    select
        coalesce(sum(shipments), 0) as shipments,
        coalesce(sum(dispatched_on_time), 0) as dispatched_on_time,
        coalesce(sum(delivered), 0) as delivered,
        coalesce(sum(delivered_on_time), 0) as delivered_on_time,
        coalesce(sum(exceptions), 0) as exceptions
    from {{ ref('mart_delivery_performance') }}

),

shipments as (

    select
        count(*) as shipments,
        sum(case when is_dispatched_on_time then 1 else 0 end) as dispatched_on_time,
        sum(case when is_delivered then 1 else 0 end) as delivered,
        sum(case when is_delivered_on_time then 1 else 0 end) as delivered_on_time,
        sum(case when has_exception then 1 else 0 end) as exceptions
    from {{ ref('fct_shipments') }}
    where is_shipped

),

all_parcels as (

    select
        (select count(*) from {{ ref('fct_shipments') }}) as in_fact,
        (select count(*) from {{ ref('stg_lake__shipments') }}) as in_store

)

select 'weekly totals differ from fct_shipments' as failure
from performance
cross join shipments
where
    performance.shipments <> shipments.shipments
    or performance.dispatched_on_time <> coalesce(shipments.dispatched_on_time, 0)
    or performance.delivered <> coalesce(shipments.delivered, 0)
    or performance.delivered_on_time <> coalesce(shipments.delivered_on_time, 0)
    or performance.exceptions <> coalesce(shipments.exceptions, 0)

union all

select 'fct_shipments misses or repeats parcels' as failure
from all_parcels
where in_fact <> in_store
