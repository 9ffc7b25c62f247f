with

source as (

    select * from {{ source('lake', 'customers') }}

),

renamed as (

    select

        ---------- ids
        cast(customer_id as varchar) as customer_id,
        ---------- strings
        cast(region as varchar) as region,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
