with

source as (

    select * from {{ source('lake', 'stock_movements') }}

),

renamed as (

    select

        ---------- ids
        cast(movement_id as varchar) as movement_id,
        cast(sku_id as varchar) as sku_id,
        cast(warehouse_id as varchar) as warehouse_id,
        cast(reference_id as varchar) as reference_id,
        cast(actor_key_id as varchar) as actor_key_id,
        ---------- strings
        cast(kind as varchar) as kind,
        cast(reason as varchar) as reason,
        cast(reference_type as varchar) as reference_type,
        ---------- numerics
        cast(on_hand_delta as bigint) as on_hand_delta,
        cast(reserved_delta as bigint) as reserved_delta,
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(occurred_at as timestamptz) as occurred_at,
        {{ store_local_date('occurred_at') }} as occurred_date

    from source

)

select * from renamed
