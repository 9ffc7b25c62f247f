with

source as (

    select * from {{ source('lake', 'order_status_history') }}

),

renamed as (

    select

        ---------- ids
        cast(history_id as varchar) as history_id,
        cast(order_id as varchar) as order_id,
        cast(actor_key_id as varchar) as actor_key_id,
        cast(request_id as varchar) as request_id,
        ---------- strings
        cast(from_status as varchar) as from_status,
        cast(to_status as varchar) as to_status,
        cast(actor_role as varchar) as actor_role,
        cast(reason as varchar) as reason,
        ---------- numerics
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day,
        ---------- timestamps
        cast(changed_at as timestamptz) as changed_at,
        {{ store_local_date('changed_at') }} as changed_date

    from source

)

select * from renamed
