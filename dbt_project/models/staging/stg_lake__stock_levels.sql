with

source as (

    select * from {{ source('lake', 'stock_levels') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            "cast(sku_id as varchar)", "':'", "cast(warehouse_id as varchar)"
        ]) }} as stock_level_id,
        cast(sku_id as varchar) as sku_id,
        cast(warehouse_id as varchar) as warehouse_id,
        ---------- numerics
        cast(on_hand as bigint) as on_hand,
        cast(reserved as bigint) as reserved,
        cast(reorder_point as bigint) as reorder_point,
        cast(reorder_quantity as bigint) as reorder_quantity,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
