-- Grain: carrier × service × ship-to region × week the parcel shipped (ISO
-- week starting Monday, store-local). Parcels not shipped yet are in no week.
-- On-time dispatch rate = parcels shipped by the promise / parcels shipped;
-- on-time delivery rate = parcels delivered by the promised date / parcels
-- delivered (so far); median transit days over the delivered parcels;
-- exceptions = parcels with at least one exception scan.

with

shipments as (

    select * from {{ ref('fct_shipments') }}
    where is_shipped

),

by_week as (

    select
        carrier_code,
        service_code,
        ship_region,
        shipped_week,
        count(*) as shipments,
        sum(case when is_dispatched_on_time then 1 else 0 end)
            as dispatched_on_time,
        sum(case when is_delivered then 1 else 0 end) as delivered,
        sum(case when is_delivered_on_time then 1 else 0 end)
            as delivered_on_time,
        sum(case when has_exception then 1 else 0 end) as exceptions,
        percentile_cont(0.5) within group (order by transit_days)
            as median_transit_days

    from shipments
    group by 1, 2, 3, 4

),

final as (

    select
        ---------- ids
        carrier_code,
        service_code,
        ---------- strings
        ship_region,
        ---------- dates
        cast(shipped_week as date) as shipped_week,
        ---------- numerics
        cast(shipments as {{ dbt.type_bigint() }}) as shipments,
        cast(dispatched_on_time as {{ dbt.type_bigint() }}) as dispatched_on_time,
        cast(delivered as {{ dbt.type_bigint() }}) as delivered,
        cast(delivered_on_time as {{ dbt.type_bigint() }}) as delivered_on_time,
        cast(exceptions as {{ dbt.type_bigint() }}) as exceptions,
        cast(
            cast(dispatched_on_time as decimal(18, 6)) / nullif(shipments, 0)
            as decimal(9, 6)
        ) as on_time_dispatch_rate,
        cast(
            cast(delivered_on_time as decimal(18, 6)) / nullif(delivered, 0)
            as decimal(9, 6)
        ) as on_time_delivery_rate,
        cast(median_transit_days as double) as median_transit_days

    from by_week

)

select * from final
