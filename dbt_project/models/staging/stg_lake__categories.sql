with

source as (

    select * from {{ source('lake', 'categories') }}

),

renamed as (

    select

        ---------- ids
        cast(category_id as varchar) as category_id,
        cast(parent_id as varchar) as parent_id,
        ---------- strings
        cast(name as varchar) as category_name,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at,
        cast(archived_at as timestamptz) as archived_at

    from source

)

select * from renamed
