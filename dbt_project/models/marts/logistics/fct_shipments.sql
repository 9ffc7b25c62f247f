-- Grain: one shipment (parcel). Dispatch is on time when the parcel shipped
-- no later than the promised dispatch instant (placed + the service's handling
-- hours); delivery is on time when the store-local day it was delivered is no
-- later than the promised delivery date. Both flags are null until the event
-- happened. Transit days = store-local days from shipped to delivered. A
-- shipment had an exception when any tracking scan reported one, even if it
-- recovered.

with

shipments as (

    select * from {{ ref('stg_lake__shipments') }}

),

shipment_lines as (

    select * from {{ ref('stg_lake__shipment_lines') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

carriers as (

    select * from {{ ref('stg_lake__carriers') }}

),

carrier_services as (

    select * from {{ ref('stg_lake__carrier_services') }}

),

warehouses as (

    select * from {{ ref('stg_lake__warehouses') }}

),

tracking as (

    select * from {{ ref('int_shipments_tracking_summarized') }}

),

units as (

    select
        shipment_id,
        count(*) as shipment_lines,
        sum(quantity) as units

    from shipment_lines
    group by 1

),

joined as (

    select
        shipments.*,
        {{ store_local_date('shipments.delivered_at') }} as delivered_date,
        orders.customer_id,
        orders.ship_region,
        orders.ship_country,
        carriers.carrier_name,
        carrier_services.carrier_service_name,
        warehouses.code as warehouse_code,
        units.shipment_lines,
        units.units,
        tracking.tracking_events,
        tracking.exception_events,
        tracking.last_tracking_status

    from shipments
    left join orders
        on shipments.order_id = orders.order_id
    left join carriers
        on shipments.carrier_code = carriers.carrier_code
    left join carrier_services
        on
            shipments.carrier_code = carrier_services.carrier_code
            and shipments.service_code = carrier_services.service_code
    left join warehouses
        on shipments.warehouse_id = warehouses.warehouse_id
    left join units
        on shipments.shipment_id = units.shipment_id
    left join tracking
        on shipments.shipment_id = tracking.shipment_id

),

final as (

    select
        ---------- ids
        shipment_id,
        order_id,
        customer_id,
        warehouse_id,
        carrier_code,
        service_code,
        ---------- strings
        warehouse_code,
        carrier_name,
        carrier_service_name,
        coalesce(ship_region, 'unknown') as ship_region,
        ship_country,
        shipment_status,
        last_tracking_status,
        ---------- booleans
        shipped_at is not null as is_shipped,
        delivered_at is not null as is_delivered,
        case
            when shipped_at is not null
                then shipped_at <= promised_dispatch_by
        end as is_dispatched_on_time,
        case
            when delivered_at is not null
                then delivered_date <= promised_delivery_date
        end as is_delivered_on_time,
        coalesce(exception_events, 0) > 0 as has_exception,
        ---------- numerics
        cast(coalesce(shipment_lines, 0) as {{ dbt.type_bigint() }})
            as shipment_lines,
        cast(coalesce(units, 0) as {{ dbt.type_bigint() }}) as units,
        cast(coalesce(tracking_events, 0) as {{ dbt.type_bigint() }})
            as tracking_events,
        cast(coalesce(exception_events, 0) as {{ dbt.type_bigint() }})
            as exception_events,
        weight_grams,
        shipping_cost_minor,
        shipping_cost_amount,
        cast(
            {{ dbt.datediff('shipped_date', 'delivered_date', 'day') }}
            as integer
        ) as transit_days,
        ---------- dates
        shipped_date,
        cast({{ dbt.date_trunc('week', 'shipped_date') }} as date) as shipped_week,
        promised_delivery_date,
        delivered_date,
        ---------- timestamps
        created_at,
        promised_dispatch_by,
        shipped_at,
        delivered_at

    from joined

)

select * from final
