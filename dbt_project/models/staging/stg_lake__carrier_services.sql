with

source as (

    select * from {{ source('lake', 'carrier_services') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            "cast(carrier_code as varchar)", "':'", "cast(service_code as varchar)"
        ]) }} as carrier_service_id,
        cast(carrier_code as varchar) as carrier_code,
        cast(service_code as varchar) as service_code,
        ---------- strings
        cast(name as varchar) as carrier_service_name,
        cast(status as varchar) as carrier_service_status,
        ---------- numerics
        cast(handling_hours as integer) as handling_hours,
        cast(base_minor as bigint) as base_minor,
        {{ minor_to_amount('base_minor') }} as base_amount,
        cast(per_kg_minor as bigint) as per_kg_minor,
        {{ minor_to_amount('per_kg_minor') }} as per_kg_amount,
        cast(max_weight_grams as integer) as max_weight_grams,
        cast(commit_seq as bigint) as commit_seq,
        ---------- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at

    from source

)

select * from renamed
