with

source as (

    select * from {{ source('lake', 'skus') }}

),

renamed as (

    select

        ---------- ids
        cast(sku_id as varchar) as sku_id,
        cast(product_id as varchar) as product_id,
        cast(sku_code as varchar) as sku_code,
        ---------- strings
        cast(name as varchar) as sku_name,
        cast(attributes_json as varchar) as attributes_json,
        cast(status as varchar) as sku_status,
        ---------- numerics
        cast(unit_cost_minor as bigint) as unit_cost_minor,
        {{ minor_to_amount('unit_cost_minor') }} as unit_cost_amount,
        cast(commit_seq as bigint) as commit_seq,
        cast(weight_grams as integer) as weight_grams,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at,
        cast(archived_at as timestamptz) as archived_at

    from source

)

select * from renamed
