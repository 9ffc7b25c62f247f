-- Grain: one store-local day of the inventory period, from the day of the
-- first stock movement to the snapshot's last day (the later of the last
-- movement's day and the last stock-level update's day). A portable date
-- spine: day offsets 0..9999 from a cross join of digits (no
-- generate_series, no compile-time query), so it covers 27 years.

with

movements as (

    select * from {{ ref('stg_lake__stock_movements') }}

),

stock_levels as (

    select * from {{ ref('stg_lake__stock_levels') }}

),

movement_bounds as (

    select
        min(occurred_date) as first_day,
        max(occurred_date) as last_movement_day

    from movements

),

level_bounds as (

    select max({{ store_local_date('updated_at') }}) as last_level_day

    from stock_levels

),

bounds as (

    select
        movement_bounds.first_day,
        case
            when level_bounds.last_level_day > movement_bounds.last_movement_day
                then level_bounds.last_level_day
            else movement_bounds.last_movement_day
        end as last_day

    from movement_bounds
    cross join level_bounds

),

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

offsets as (

    select
        units.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit as day_offset

    from digits as units
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands

),

final as (

    select
        ---------- dates
        {{ dbt.cast(
            dbt.dateadd('day', 'offsets.day_offset', 'bounds.first_day'), 'date'
        ) }} as stock_date,
        bounds.first_day as period_first_day,
        bounds.last_day as period_last_day

    from bounds
    cross join offsets
    where offsets.day_offset <= {{ dbt.datediff('bounds.first_day', 'bounds.last_day', 'day') }}

)

select * from final
