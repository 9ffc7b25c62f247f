-- Grain: one SKU × warehouse × alert kind that needs attention as of the
-- snapshot's last store-local day (as_of_date), BEY-5. The core already
-- raises low stock at once (available under the reorder point); this list
-- adds what needs a forecast. The alerts asset posts these rows to the API
-- as they are, so the columns are a contract with POST /api/v1/alerts/forecasts.
--
--   daily_demand  = units shipped in the trailing window / the window's days
--                   that did not end in a stockout (DECISIONLOG, inventory
--                   alerts). The window is the alerts_demand_window_days
--                   complete days before as_of_date (as_of_date itself is
--                   the snapshot's partial day), clipped to the pair's first
--                   movement. Stockout days are left out of the denominator:
--                   nothing could be ordered while available was 0, so
--                   counting them would understate demand; units shipped on
--                   them still count (they were ordered while in stock). A
--                   window with only stockout days divides by all its days.
--   supply        = available + incoming (open purchase-order units)
--   target days   = lead time + review period + safety days of the ABC class
--   stockout_forecast : supply runs out before the target days; critical
--                   when it runs out before the lead time (a reorder placed
--                   today already arrives late), else warning. Active SKUs only.
--   overstock     : supply above the pair's order-up-to level (reorder point
--                   + reorder quantity) and cover above the class ceiling
--                   (info), above ceiling × warning factor or with no demand
--                   at all in the window (warning).
--   suggested reorder = ceil(target days × daily_demand − supply), ≥ 0; 0
--                   on overstock rows.
--
-- Exactness: daily_demand is rounded half up to 4 decimals first and every
-- rule uses that published figure, in integers (demand_e4 = daily_demand ×
-- 10,000): comparisons are cross-multiplied, never divided, and the one
-- division (for days_of_cover and its floor) is of two integers, so no
-- float rounding can move a SKU across a threshold and every row can be
-- recomputed from its own columns. floor(a / b) of non-negative integers is
-- exact on DuckDB (double division) and Postgres (integer division) alike.

{%- set window_days = var('alerts_demand_window_days', 28) | int %}
{%- set review_days = var('alerts_review_period_days', 7) | int %}
{%- set default_lead_days = var('alerts_default_lead_time_days', 14) | int %}
{%- set safety_days = var('alerts_safety_days', {'A': 14, 'B': 7, 'C': 3}) %}
{%- set ceiling_days = var('alerts_overstock_ceiling_days', {'A': 60, 'B': 90, 'C': 120}) %}
{%- set warning_factor = var('alerts_overstock_warning_factor', 2) | int %}

{#- Per-class figures as one case expression each (abc_class is never null here). -#}
{%- set safety_by_class = "case abc_class when 'A' then " ~ (safety_days['A'] | int)
    ~ " when 'B' then " ~ (safety_days['B'] | int) ~ " else " ~ (safety_days['C'] | int) ~ " end" %}
{%- set ceiling_by_class = "case abc_class when 'A' then " ~ (ceiling_days['A'] | int)
    ~ " when 'B' then " ~ (ceiling_days['B'] | int) ~ " else " ~ (ceiling_days['C'] | int) ~ " end" %}

with

stock_levels as (

    select * from {{ ref('stg_lake__stock_levels') }}

),

stock_daily as (

    select * from {{ ref('mart_stock_daily') }}

),

inventory_skus as (

    select * from {{ ref('mart_inventory_sku') }}

),

skus as (

    select * from {{ ref('stg_lake__skus') }}

),

products as (

    select * from {{ ref('stg_lake__products') }}

),

incoming as (

    select * from {{ ref('int_purchase_order_lines_aggregated_to_sku_warehouses') }}

),

sku_suppliers as (

    select * from {{ ref('int_skus_joined_to_suppliers') }}

),

as_of as (

    select max(stock_date) as as_of_date

    from stock_daily

),

-- The trailing window: complete days before as_of_date.
window_days as (

    select
        stock_daily.sku_id,
        stock_daily.warehouse_id,
        stock_daily.units_shipped,
        stock_daily.is_stockout

    from stock_daily
    cross join as_of
    where
        stock_daily.stock_date < as_of.as_of_date
        and stock_daily.stock_date >= {{ dbt.cast(
            dbt.dateadd('day', -window_days, 'as_of.as_of_date'), 'date'
        ) }}

),

demand as (

    select
        sku_id,
        warehouse_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as window_days,
        cast(sum(case when is_stockout then 0 else 1 end) as {{ dbt.type_bigint() }})
            as in_stock_days,
        cast(sum(units_shipped) as {{ dbt.type_bigint() }}) as units_shipped

    from window_days
    group by sku_id, warehouse_id

),

joined as (

    select
        stock_levels.sku_id,
        stock_levels.warehouse_id,
        skus.product_id,
        products.category_id,
        skus.sku_status,
        as_of.as_of_date,
        coalesce(inventory_skus.abc_class, 'C') as abc_class,
        stock_levels.on_hand,
        stock_levels.reserved,
        stock_levels.on_hand - stock_levels.reserved as available,
        coalesce(incoming.incoming, 0) as incoming,
        stock_levels.on_hand - stock_levels.reserved + coalesce(incoming.incoming, 0) as supply,
        stock_levels.reorder_point,
        coalesce(stock_levels.reorder_point, 0) + coalesce(stock_levels.reorder_quantity, 0)
            as max_stock,
        coalesce(sku_suppliers.lead_time_days, {{ default_lead_days }}) as lead_time_days,
        coalesce(demand.units_shipped, 0) as units_shipped,
        -- Days that can carry demand: those that did not end in a stockout,
        -- or every day of the window when it never had stock.
        case
            when demand.in_stock_days > 0 then demand.in_stock_days
            else demand.window_days
        end as demand_days

    from stock_levels
    cross join as_of
    left join skus
        on stock_levels.sku_id = skus.sku_id
    left join products
        on skus.product_id = products.product_id
    left join inventory_skus
        on stock_levels.sku_id = inventory_skus.sku_id
    left join incoming
        on
            stock_levels.sku_id = incoming.sku_id
            and stock_levels.warehouse_id = incoming.warehouse_id
    left join sku_suppliers
        on stock_levels.sku_id = sku_suppliers.sku_id
    left join demand
        on
            stock_levels.sku_id = demand.sku_id
            and stock_levels.warehouse_id = demand.warehouse_id

),

with_demand as (

    select
        *,
        -- Units per 10,000 days, rounded half up: floor((2u·10⁴ + d) / 2d).
        -- Null without a complete day of history: no verdict on a new pair.
        case
            when demand_days > 0
                then cast(
                    floor((units_shipped * 20000 + demand_days) / (2 * demand_days))
                    as {{ dbt.type_bigint() }}
                )
        end as demand_e4,
        lead_time_days + {{ review_days }} + {{ safety_by_class }} as target_days,
        {{ ceiling_by_class }} as ceiling_days

    from joined

),

classified as (

    select
        *,
        coalesce(
            demand_e4 > 0
            and sku_status = 'active'
            and supply * 10000 < target_days * demand_e4,
            false
        ) as is_stockout_forecast,
        -- Never overstock at or below the pair's own order-up-to level
        -- (reorder point + reorder quantity): the store's settings would buy
        -- that much anyway, and without this floor every slow SKU holding
        -- its minimum display stock (a few units, nothing sold in a short
        -- window) would be listed.
        coalesce(
            supply > max_stock
            and (
                (demand_e4 > 0 and supply * 10000 > ceiling_days * demand_e4)
                or demand_e4 = 0
            ),
            false
        ) as is_overstock

    from with_demand

),

alerts as (

    select
        *,
        'stockout_forecast' as kind,
        case
            when supply * 10000 < lead_time_days * demand_e4 then 'critical'
            else 'warning'
        end as severity,
        -- ceil(x / 10⁴) of a positive integer x, as floor((x + 9999) / 10⁴).
        cast(
            floor((target_days * demand_e4 - supply * 10000 + 9999) / 10000)
            as {{ dbt.type_bigint() }}
        ) as suggested_reorder_quantity

    from classified
    where is_stockout_forecast

    union all

    select
        *,
        'overstock' as kind,
        case
            when demand_e4 = 0 then 'warning'
            when supply * 10000 > {{ warning_factor }} * ceiling_days * demand_e4 then 'warning'
            else 'info'
        end as severity,
        cast(0 as {{ dbt.type_bigint() }}) as suggested_reorder_quantity

    from classified
    where is_overstock

),

covered as (

    select
        *,
        -- Days of cover to one decimal, half up; and whole days covered.
        case
            when demand_e4 > 0
                then floor((supply * 200000 + demand_e4) / (2 * demand_e4))
        end as cover_e1,
        case
            when demand_e4 > 0 then floor(supply * 10000 / demand_e4)
        end as cover_whole_days

    from alerts

),

final as (

    -- Column order as the API's POST /api/v1/alerts/forecasts body lists them.
    select
        {{ dbt.concat(["sku_id", "'|'", "warehouse_id", "'|'", "kind"]) }} as alert_id,
        as_of_date,
        sku_id,
        warehouse_id,
        product_id,
        category_id,
        kind,
        abc_class,
        severity,
        cast(on_hand as {{ dbt.type_bigint() }}) as on_hand,
        cast(reserved as {{ dbt.type_bigint() }}) as reserved,
        cast(available as {{ dbt.type_bigint() }}) as available,
        cast(incoming as {{ dbt.type_bigint() }}) as incoming,
        cast(cast(demand_e4 as decimal(18, 4)) * 0.0001 as decimal(18, 4)) as daily_demand,
        cast(cast(cover_e1 as decimal(18, 1)) * 0.1 as decimal(18, 1)) as days_of_cover,
        case
            when kind = 'stockout_forecast'
                then {{ dbt.cast(
                    dbt.dateadd(
                        'day',
                        dbt.cast('cover_whole_days', dbt.type_bigint()),
                        'as_of_date'
                    ),
                    'date'
                ) }}
        end as forecast_stockout_date,
        cast(lead_time_days as {{ dbt.type_int() }}) as lead_time_days,
        suggested_reorder_quantity,
        cast(reorder_point as {{ dbt.type_bigint() }}) as reorder_point

    from covered

)

select * from final
