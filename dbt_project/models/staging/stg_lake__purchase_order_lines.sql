with

source as (

    select * from {{ source('lake', 'purchase_order_lines') }}

),

renamed as (

    select

        ---------- ids
        cast(purchase_order_line_id as varchar) as purchase_order_line_id,
        cast(purchase_order_id as varchar) as purchase_order_id,
        cast(sku_id as varchar) as sku_id,
        ---------- numerics
        cast(quantity_ordered as bigint) as quantity_ordered,
        cast(quantity_received as bigint) as quantity_received,
        cast(unit_cost_minor as bigint) as unit_cost_minor,
        {{ minor_to_amount('unit_cost_minor') }} as unit_cost_amount,
        cast(commit_seq as bigint) as commit_seq

    from source

)

select * from renamed
