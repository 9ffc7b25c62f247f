with

source as (

    select * from {{ source('lake', 'purchase_receipts') }}

),

renamed as (

    select

        ---------- ids
        cast(receipt_id as varchar) as receipt_id,
        cast(purchase_order_id as varchar) as purchase_order_id,
        cast(actor_key_id as varchar) as actor_key_id,
        ---------- strings
        cast(note as varchar) as note,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(received_at as timestamptz) as received_at,
        {{ store_local_date('received_at') }} as received_date

    from source

)

select * from renamed
