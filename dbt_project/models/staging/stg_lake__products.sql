with

source as (

    select * from {{ source('lake', 'products') }}

),

renamed as (

    select

        ---------- ids
        cast(product_id as varchar) as product_id,
        cast(category_id as varchar) as category_id,
        ---------- strings
        cast(name as varchar) as product_name,
        cast(description as varchar) as description,
        cast(tax_class as varchar) as tax_class,
        cast(attributes_json as varchar) as attributes_json,
        cast(status as varchar) as product_status,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at,
        cast(archived_at as timestamptz) as archived_at

    from source

)

select * from renamed
