with

source as (

    select * from {{ source('lake', 'order_lines') }}

),

renamed as (

    select

        ---------- ids
        cast(order_line_id as varchar) as order_line_id,
        cast(order_id as varchar) as order_id,
        cast(sku_id as varchar) as sku_id,
        cast(product_id as varchar) as product_id,
        cast(category_id as varchar) as category_id,
        ---------- strings
        cast(status as varchar) as order_line_status,
        cast(sku_name as varchar) as sku_name,
        ---------- numerics
        cast(line_no as integer) as line_no,
        cast(quantity as bigint) as quantity,
        cast(quantity_shipped as bigint) as quantity_shipped,
        cast(unit_price_minor as bigint) as unit_price_minor,
        {{ minor_to_amount('unit_price_minor') }} as unit_price_amount,
        cast(unit_cost_minor as bigint) as unit_cost_minor,
        {{ minor_to_amount('unit_cost_minor') }} as unit_cost_amount,
        cast(tax_rate as decimal(9, 6)) as tax_rate,
        cast(list_minor as bigint) as list_minor,
        {{ minor_to_amount('list_minor') }} as list_amount,
        cast(gross_minor as bigint) as gross_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        cast(discount_minor as bigint) as discount_minor,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        cast(net_minor as bigint) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount,
        cast(tax_minor as bigint) as tax_minor,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        cast(total_minor as bigint) as total_minor,
        {{ minor_to_amount('total_minor') }} as total_amount,
        cast(commit_seq as bigint) as commit_seq,
        cast(quantity_refunded as bigint) as quantity_refunded,
        cast(quantity_cancelled as bigint) as quantity_cancelled

    from source

)

select * from renamed
