with

source as (

    select * from {{ source('lake', 'tracking_events') }}

),

renamed as (

    select

        ---------- ids
        cast(tracking_event_id as varchar) as tracking_event_id,
        cast(shipment_id as varchar) as shipment_id,
        cast(order_id as varchar) as order_id,
        cast(carrier_code as varchar) as carrier_code,
        cast(actor_key_id as varchar) as actor_key_id,
        cast(request_id as varchar) as request_id,
        ---------- strings
        cast(status as varchar) as tracking_event_status,
        cast(previous_status as varchar) as previous_status,
        cast(location as varchar) as tracking_location,
        cast(source as varchar) as tracking_source,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- booleans
        cast(applied as boolean) as applied,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(occurred_at as timestamptz) as occurred_at,
        {{ store_local_date('occurred_at') }} as occurred_date,
        cast(received_at as timestamptz) as received_at

    from source

)

select * from renamed
