with

source as (

    select * from {{ source('lake', 'storefront_events') }}

),

renamed as (

    select

        ---------- ids
        cast(event_id as varchar) as event_id,
        cast(session_id as varchar) as session_id,
        cast(anonymous_id as varchar) as anonymous_id,
        cast(customer_id as varchar) as customer_id,
        cast(transaction_id as varchar) as transaction_id,
        cast(item_list_id as varchar) as item_list_id,
        ---------- strings
        cast(event_name as varchar) as event_name,
        cast(source as varchar) as event_source,
        cast(traffic_source as varchar) as traffic_source,
        cast(utm_source as varchar) as utm_source,
        cast(utm_medium as varchar) as utm_medium,
        cast(utm_campaign as varchar) as utm_campaign,
        cast(device as varchar) as device,
        cast(currency as varchar) as currency,
        cast(coupon as varchar) as coupon,
        cast(item_list_name as varchar) as item_list_name,
        cast(shipping_tier as varchar) as shipping_tier,
        cast(payment_type as varchar) as payment_type,
        ---------- numerics
        cast(value_minor as bigint) as value_minor,
        {{ minor_to_amount('value_minor') }} as value_amount,
        cast(tax_minor as bigint) as tax_minor,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        cast(shipping_minor as bigint) as shipping_minor,
        {{ minor_to_amount('shipping_minor') }} as shipping_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(occurred_at as timestamptz) as occurred_at,
        {{ store_local_date('occurred_at') }} as occurred_date,
        cast(received_at as timestamptz) as received_at

    from source

)

select * from renamed
