with

source as (

    select * from {{ source('lake', 'purchase_receipt_lines') }}

),

renamed as (

    select

        ---------- ids
        cast(receipt_line_id as varchar) as receipt_line_id,
        cast(receipt_id as varchar) as receipt_id,
        cast(purchase_order_line_id as varchar) as purchase_order_line_id,
        cast(sku_id as varchar) as sku_id,
        ---------- numerics
        cast(quantity as bigint) as quantity,
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day

    from source

)

select * from renamed
