-- Metric identity (BEY-3), DECISIONLOG.md §4: Σ stock movements = on hand.
-- The last day of mart_stock_daily (running sums of the journal) equals the
-- stock_levels row, on hand and reserved, for every SKU × warehouse on
-- either side; and the mart's daily changes add up to the journal's. Every
-- returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_stock_daily'}}}) }}


with

stock_daily as (

    select * from {{ ref('mart_stock_daily') }}

),

stock_levels as (

    select * from {{ ref('stg_lake__stock_levels') }}

),

movements as (

    select * from {{ ref('fct_stock_movements') }}

),

period as (

    select max(stock_date) as last_day

    from stock_daily

),

last_day as (

    select
        stock_daily.sku_id,
        stock_daily.warehouse_id,
        stock_daily.on_hand,
        stock_daily.reserved

    from stock_daily
    inner join period
        on stock_daily.stock_date = period.last_day

),

pair_rows as (

    select
        'sku × warehouse ' || coalesce(last_day.sku_id, stock_levels.sku_id) || ':'
        || coalesce(last_day.warehouse_id, stock_levels.warehouse_id) as failure

    from last_day
    full outer join stock_levels
        on
            last_day.sku_id = stock_levels.sku_id
            and last_day.warehouse_id = stock_levels.warehouse_id
    where
        coalesce(last_day.on_hand, 0) <> coalesce(stock_levels.on_hand, 0)
        or coalesce(last_day.reserved, 0) <> coalesce(stock_levels.reserved, 0)

),

daily_totals as (

    select
        coalesce(sum(on_hand_delta), 0) as on_hand_delta,
        coalesce(sum(reserved_delta), 0) as reserved_delta,
        coalesce(sum(movements), 0) as movements

    from stock_daily

),

movement_totals as (

    select
        coalesce(sum(on_hand_delta), 0) as on_hand_delta,
        coalesce(sum(reserved_delta), 0) as reserved_delta,
        count(*) as movements

    from movements

),

total_rows as (

    select 'daily changes differ from the journal' as failure

    from daily_totals
    cross join movement_totals
    where
        daily_totals.on_hand_delta <> movement_totals.on_hand_delta
        or daily_totals.reserved_delta <> movement_totals.reserved_delta
        or daily_totals.movements <> movement_totals.movements

)

select * from pair_rows
union all
select * from total_rows
