with

source as (

    select * from {{ source('lake', 'payment_operations') }}

),

renamed as (

    select

        ---------- ids
        cast(operation_id as varchar) as operation_id,
        cast(payment_id as varchar) as payment_id,
        cast(order_id as varchar) as order_id,
        cast(refund_id as varchar) as refund_id,
        cast(actor_key_id as varchar) as actor_key_id,
        cast(request_id as varchar) as request_id,
        cast(shipment_id as varchar) as shipment_id,
        ---------- strings
        cast(kind as varchar) as kind,
        cast(status as varchar) as operation_status,
        cast(provider as varchar) as payment_provider,
        cast(provider_ref as varchar) as provider_ref,
        cast(error_code as varchar) as error_code,
        ---------- numerics
        cast(amount_minor as bigint) as amount_minor,
        {{ minor_to_amount('amount_minor') }} as amount_amount,
        cast(captured_before_minor as bigint) as captured_before_minor,
        {{ minor_to_amount('captured_before_minor') }} as captured_before_amount,
        cast(fee_minor as bigint) as fee_minor,
        {{ minor_to_amount('fee_minor') }} as fee_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(requested_at as timestamptz) as requested_at,
        cast(settled_at as timestamptz) as settled_at,
        {{ store_local_date('settled_at') }} as settled_date

    from source

)

select * from renamed
