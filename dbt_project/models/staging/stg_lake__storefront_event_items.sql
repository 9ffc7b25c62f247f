with

source as (

    select * from {{ source('lake', 'storefront_event_items') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            "cast(event_id as varchar)", "':'", "cast(item_index as varchar)"
        ]) }} as event_item_id,
        cast(event_id as varchar) as event_id,
        cast(item_id as varchar) as item_id,
        ---------- strings
        cast(item_name as varchar) as item_name,
        cast(item_brand as varchar) as item_brand,
        cast(item_category as varchar) as item_category,
        cast(item_variant as varchar) as item_variant,
        ---------- numerics
        cast(item_index as integer) as item_index,
        cast(item_list_index as integer) as item_list_index,
        cast(price_minor as bigint) as price_minor,
        {{ minor_to_amount('price_minor') }} as price_amount,
        cast(quantity as integer) as quantity,
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day

    from source

)

select * from renamed
