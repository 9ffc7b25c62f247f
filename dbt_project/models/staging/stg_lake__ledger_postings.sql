with

source as (

    select * from {{ source('lake', 'ledger_postings') }}

),

renamed as (

    select

        ---------- ids
        cast(posting_id as varchar) as posting_id,
        cast(reference_id as varchar) as reference_id,
        cast(order_id as varchar) as order_id,
        cast(payment_id as varchar) as payment_id,
        cast(actor_key_id as varchar) as actor_key_id,
        cast(request_id as varchar) as request_id,
        ---------- strings
        cast(kind as varchar) as kind,
        cast(reference_type as varchar) as reference_type,
        cast(reverses as varchar) as reverses,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(posted_at as timestamptz) as posted_at,
        {{ store_local_date('posted_at') }} as posted_date

    from source

)

select * from renamed
