with

source as (

    select * from {{ source('lake', 'payments') }}

),

renamed as (

    select

        ---------- ids
        cast(payment_id as varchar) as payment_id,
        cast(order_id as varchar) as order_id,
        cast(customer_id as varchar) as customer_id,
        cast(attempt_id as varchar) as attempt_id,
        ---------- strings
        cast(method as varchar) as payment_method,
        cast(currency as varchar) as currency,
        cast(status as varchar) as payment_status,
        cast(provider as varchar) as payment_provider,
        cast(provider_ref as varchar) as provider_ref,
        cast(card_brand as varchar) as card_brand,
        cast(card_last4 as varchar) as card_last4,
        cast(failure_code as varchar) as failure_code,
        ---------- numerics
        cast(amount_minor as bigint) as amount_minor,
        {{ minor_to_amount('amount_minor') }} as amount_amount,
        cast(authorized_minor as bigint) as authorized_minor,
        {{ minor_to_amount('authorized_minor') }} as authorized_amount,
        cast(captured_minor as bigint) as captured_minor,
        {{ minor_to_amount('captured_minor') }} as captured_amount,
        cast(refunded_minor as bigint) as refunded_minor,
        {{ minor_to_amount('refunded_minor') }} as refunded_amount,
        cast(voided_minor as bigint) as voided_minor,
        {{ minor_to_amount('voided_minor') }} as voided_amount,
        cast(fee_minor as bigint) as fee_minor,
        {{ minor_to_amount('fee_minor') }} as fee_amount,
        cast(recognized_revenue_minor as bigint) as recognized_revenue_minor,
        {{ minor_to_amount('recognized_revenue_minor') }} as recognized_revenue_amount,
        cast(recognized_tax_minor as bigint) as recognized_tax_minor,
        {{ minor_to_amount('recognized_tax_minor') }} as recognized_tax_amount,
        cast(recognized_shipping_minor as bigint) as recognized_shipping_minor,
        {{ minor_to_amount('recognized_shipping_minor') }} as recognized_shipping_amount,
        cast(refunded_revenue_minor as bigint) as refunded_revenue_minor,
        {{ minor_to_amount('refunded_revenue_minor') }} as refunded_revenue_amount,
        cast(refunded_tax_minor as bigint) as refunded_tax_minor,
        {{ minor_to_amount('refunded_tax_minor') }} as refunded_tax_amount,
        cast(refunded_shipping_minor as bigint) as refunded_shipping_minor,
        {{ minor_to_amount('refunded_shipping_minor') }} as refunded_shipping_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(expires_at as timestamptz) as expires_at,
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
