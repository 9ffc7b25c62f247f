with

source as (

    select * from {{ source('lake', 'purchase_orders') }}

),

renamed as (

    select

        ---------- ids
        cast(purchase_order_id as varchar) as purchase_order_id,
        cast(supplier_id as varchar) as supplier_id,
        cast(warehouse_id as varchar) as warehouse_id,
        ---------- strings
        cast(status as varchar) as purchase_order_status,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(expected_on as date) as expected_on,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
