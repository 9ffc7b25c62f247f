with

source as (

    select * from {{ source('lake', 'sku_prices') }}

),

renamed as (

    select

        ---------- ids
        cast(price_id as varchar) as price_id,
        cast(sku_id as varchar) as sku_id,
        ---------- strings
        cast(reason as varchar) as reason,
        cast(created_by as varchar) as created_by,
        ---------- numerics
        cast(price_minor as bigint) as price_minor,
        {{ minor_to_amount('price_minor') }} as price_amount,
        cast(compare_at_minor as bigint) as compare_at_minor,
        {{ minor_to_amount('compare_at_minor') }} as compare_at_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(effective_from as timestamptz) as effective_from,
        cast(created_at as timestamptz) as created_at

    from source

)

select * from renamed
