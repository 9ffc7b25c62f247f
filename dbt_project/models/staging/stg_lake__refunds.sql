with

source as (

    select * from {{ source('lake', 'refunds') }}

),

renamed as (

    select

        ---------- ids
        cast(refund_id as varchar) as refund_id,
        cast(order_id as varchar) as order_id,
        cast(payment_id as varchar) as payment_id,
        cast(operation_id as varchar) as operation_id,
        cast(actor_key_id as varchar) as actor_key_id,
        cast(request_id as varchar) as request_id,
        ---------- strings
        cast(destination as varchar) as destination,
        cast(reason as varchar) as reason,
        cast(lines_json as varchar) as lines_json,
        cast(status as varchar) as refund_status,
        ---------- numerics
        cast(amount_minor as bigint) as amount_minor,
        {{ minor_to_amount('amount_minor') }} as amount_amount,
        cast(revenue_minor as bigint) as revenue_minor,
        {{ minor_to_amount('revenue_minor') }} as revenue_amount,
        cast(tax_minor as bigint) as tax_minor,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        cast(shipping_minor as bigint) as shipping_minor,
        {{ minor_to_amount('shipping_minor') }} as shipping_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        {{ store_local_date('created_at') }} as created_date,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
