with

source as (

    select * from {{ source('lake', 'suppliers') }}

),

renamed as (

    select

        ---------- ids
        cast(supplier_id as varchar) as supplier_id,
        ---------- strings
        cast(name as varchar) as supplier_name,
        ---------- numerics
        cast(lead_time_days as integer) as lead_time_days,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at

    from source

)

select * from renamed
