with

source as (

    select * from {{ source('lake', 'warehouses') }}

),

renamed as (

    select

        ---------- ids
        cast(warehouse_id as varchar) as warehouse_id,
        cast(code as varchar) as code,
        ---------- strings
        cast(name as varchar) as warehouse_name,
        cast(region as varchar) as region,
        ---------- numerics
        cast(priority as integer) as priority,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at

    from source

)

select * from renamed
