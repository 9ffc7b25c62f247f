-- Grain: one SKU × warehouse × store-local day, from the day of the pair's
-- first movement to the snapshot's last day. On hand and reserved at the end
-- of the day are the running sums of the journal's deltas; a day without
-- movements carries the previous day forward (the date spine gives it a row
-- with zero change). available = on hand − reserved; a stockout day is a day
-- that ends with available ≤ 0.

with

days as (

    select * from {{ ref('int_inventory_days_spined') }}

),

daily_movements as (

    select * from {{ ref('int_stock_movements_aggregated_to_days') }}

),

pairs as (

    select
        sku_id,
        warehouse_id,
        min(movement_date) as first_day

    from daily_movements
    group by sku_id, warehouse_id

),

pair_days as (

    select
        pairs.sku_id,
        pairs.warehouse_id,
        days.stock_date

    from pairs
    inner join days
        on pairs.first_day <= days.stock_date

),

joined as (

    select
        pair_days.sku_id,
        pair_days.warehouse_id,
        pair_days.stock_date,
        coalesce(daily_movements.movements, 0) as movements,
        coalesce(daily_movements.on_hand_delta, 0) as on_hand_delta,
        coalesce(daily_movements.reserved_delta, 0) as reserved_delta,
        coalesce(daily_movements.units_received, 0) as units_received,
        coalesce(daily_movements.units_shipped, 0) as units_shipped

    from pair_days
    left join daily_movements
        on
            pair_days.sku_id = daily_movements.sku_id
            and pair_days.warehouse_id = daily_movements.warehouse_id
            and pair_days.stock_date = daily_movements.movement_date

),

running as (

    select
        *,
        sum(on_hand_delta) over (
            partition by sku_id, warehouse_id
            order by stock_date
            rows between unbounded preceding and current row
        ) as on_hand,
        sum(reserved_delta) over (
            partition by sku_id, warehouse_id
            order by stock_date
            rows between unbounded preceding and current row
        ) as reserved

    from joined

),

final as (

    select
        ---------- ids
        {{ dbt.concat([
            "sku_id", "':'", "warehouse_id", "':'",
            dbt.cast("stock_date", dbt.type_string())
        ]) }} as stock_daily_id,
        sku_id,
        warehouse_id,
        ---------- numerics
        cast(movements as {{ dbt.type_bigint() }}) as movements,
        cast(on_hand_delta as {{ dbt.type_bigint() }}) as on_hand_delta,
        cast(reserved_delta as {{ dbt.type_bigint() }}) as reserved_delta,
        cast(units_received as {{ dbt.type_bigint() }}) as units_received,
        cast(units_shipped as {{ dbt.type_bigint() }}) as units_shipped,
        cast(on_hand as {{ dbt.type_bigint() }}) as on_hand,
        cast(reserved as {{ dbt.type_bigint() }}) as reserved,
        cast(on_hand - reserved as {{ dbt.type_bigint() }}) as available,
        ---------- booleans
        on_hand - reserved <= 0 as is_stockout,
        ---------- dates
        stock_date

    from running

)

select * from final
