with

source as (

    select * from {{ source('lake', 'shipment_lines') }}

),

renamed as (

    select

        ---------- ids
        cast(shipment_line_id as varchar) as shipment_line_id,
        cast(shipment_id as varchar) as shipment_id,
        cast(order_line_id as varchar) as order_line_id,
        cast(allocation_id as varchar) as allocation_id,
        cast(sku_id as varchar) as sku_id,
        cast(order_id as varchar) as order_id,
        ---------- numerics
        cast(quantity as bigint) as quantity,
        cast(commit_seq as bigint) as commit_seq

    from source

)

select * from renamed
