with

source as (

    select * from {{ source('lake', 'carriers') }}

),

renamed as (

    select

        ---------- ids
        cast(carrier_code as varchar) as carrier_code,
        ---------- strings
        cast(name as varchar) as carrier_name,
        cast(status as varchar) as carrier_status,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
