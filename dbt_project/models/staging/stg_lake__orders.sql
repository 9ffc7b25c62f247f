with

source as (

    select * from {{ source('lake', 'orders') }}

),

renamed as (

    select

        ---------- ids
        cast(order_id as varchar) as order_id,
        cast(customer_id as varchar) as customer_id,
        cast(session_id as varchar) as session_id,
        -- Guests are told apart by e-mail; only a digest enters the warehouse.
        {{ dbt.hash('lower(trim(guest_email))') }} as guest_email_hash,
        ---------- strings
        cast(status as varchar) as order_status,
        cast(currency as varchar) as currency,
        cast(sales_channel as varchar) as sales_channel,
        cast(traffic_source as varchar) as traffic_source,
        cast(utm_source as varchar) as utm_source,
        cast(utm_medium as varchar) as utm_medium,
        cast(utm_campaign as varchar) as utm_campaign,
        cast(device as varchar) as device,
        cast(ship_city as varchar) as ship_city,
        cast(ship_region as varchar) as ship_region,
        cast(ship_country as varchar) as ship_country,
        cast(coupon_code as varchar) as coupon_code,
        cast(attention_code as varchar) as attention_code,
        ---------- numerics
        cast(subtotal_listed_minor as bigint) as subtotal_listed_minor,
        {{ minor_to_amount('subtotal_listed_minor') }} as subtotal_listed_amount,
        cast(gross_minor as bigint) as gross_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        cast(discount_minor as bigint) as discount_minor,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        cast(net_minor as bigint) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount,
        cast(tax_minor as bigint) as tax_minor,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        cast(shipping_minor as bigint) as shipping_minor,
        {{ minor_to_amount('shipping_minor') }} as shipping_amount,
        cast(total_minor as bigint) as total_minor,
        {{ minor_to_amount('total_minor') }} as total_amount,
        cast(version as integer) as order_version,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(placed_at as timestamptz) as placed_at,
        {{ store_local_date('placed_at') }} as placed_date,
        cast(expires_at as timestamptz) as expires_at,
        cast(paid_at as timestamptz) as paid_at,
        {{ store_local_date('paid_at') }} as paid_date,
        cast(cancelled_at as timestamptz) as cancelled_at,
        cast(updated_at as timestamptz) as updated_at,
        cast(attention_at as timestamptz) as attention_at,
        cast(delivered_at as timestamptz) as delivered_at

    from source

)

select * from renamed
