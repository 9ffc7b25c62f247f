with

source as (

    select * from {{ source('lake', 'order_discounts') }}

),

renamed as (

    select

        ---------- ids
        cast(order_discount_id as varchar) as order_discount_id,
        cast(order_id as varchar) as order_id,
        cast(actor_key_id as varchar) as actor_key_id,
        ---------- strings
        cast(source as varchar) as discount_source,
        cast(coupon_code as varchar) as coupon_code,
        cast(reason as varchar) as reason,
        cast(kind as varchar) as kind,
        ---------- numerics
        cast(percent_off as decimal(9, 4)) as percent_off,
        cast(amount_off_minor as bigint) as amount_off_minor,
        {{ minor_to_amount('amount_off_minor') }} as amount_off_amount,
        cast(applied_minor as bigint) as applied_minor,
        {{ minor_to_amount('applied_minor') }} as applied_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- booleans
        cast(is_active as boolean) as is_active,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at

    from source

)

select * from renamed
