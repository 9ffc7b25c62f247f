with

source as (

    select * from {{ source('lake', 'shipments') }}

),

renamed as (

    select

        ---------- ids
        cast(shipment_id as varchar) as shipment_id,
        cast(order_id as varchar) as order_id,
        cast(warehouse_id as varchar) as warehouse_id,
        cast(carrier_code as varchar) as carrier_code,
        cast(service_code as varchar) as service_code,
        cast(payment_id as varchar) as payment_id,
        ---------- strings
        cast(status as varchar) as shipment_status,
        cast(tracking_number as varchar) as tracking_number,
        cast(tracking_status as varchar) as tracking_status,
        cast(capture_status as varchar) as capture_status,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        cast(weight_grams as integer) as weight_grams,
        cast(shipping_cost_minor as bigint) as shipping_cost_minor,
        {{ minor_to_amount('shipping_cost_minor') }} as shipping_cost_amount,
        cast(capture_minor as bigint) as capture_minor,
        {{ minor_to_amount('capture_minor') }} as capture_amount,
        ---------- dates
        cast(promised_delivery_date as date) as promised_delivery_date,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(shipped_at as timestamptz) as shipped_at,
        {{ store_local_date('shipped_at') }} as shipped_date,
        cast(promised_dispatch_by as timestamptz) as promised_dispatch_by,
        cast(delivered_at as timestamptz) as delivered_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
