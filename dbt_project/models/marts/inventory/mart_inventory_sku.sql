-- Grain: one SKU, over the whole inventory period (DECISIONLOG.md, inventory
-- definitions). Units sold are the units shipped out of the stock journal
-- (the physical outflow the on-hand figures net against); revenue is the
-- SKU's net sales from fct_order_lines (gross − discounts − returns, without
-- tax). Per SKU, stock is summed over warehouses for each day of
-- mart_stock_daily from the SKU's first movement to the snapshot's last day.
--   turnover          = COGS of units sold / average inventory value, both at
--                       the SKU's unit cost (over the period, not annualised)
--   days of inventory = average on hand / average daily units sold
--   sell-through      = units sold / (units sold + ending on hand)
--   ABC by revenue    = over SKUs with sales, by revenue descending: A while
--                       the revenue before the SKU is below 80 % of the total
--                       (the SKU that crosses 80 % is A), B below 95 %, C rest
--   slow mover        = stocked, and no unit sold in the last 30 days of the
--                       period or sell-through below 0.10 (vars
--                       slow_mover_window_days, slow_mover_sell_through)

{%- set window_days = var('slow_mover_window_days', 30) | int %}
{%- set sell_through_floor = var('slow_mover_sell_through', 0.10) %}

with

skus as (

    select * from {{ ref('stg_lake__skus') }}

),

stock_daily as (

    select * from {{ ref('mart_stock_daily') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

sku_days as (

    select
        sku_id,
        stock_date,
        sum(on_hand) as on_hand,
        sum(units_shipped) as units_shipped,
        sum(units_received) as units_received,
        sum(case when is_stockout then 1 else 0 end) as stockout_days

    from stock_daily
    group by sku_id, stock_date

),

period as (

    select max(stock_date) as period_last_day

    from stock_daily

),

sku_stock as (

    select
        sku_days.sku_id,
        min(sku_days.stock_date) as period_first_day,
        max(period.period_last_day) as period_last_day,
        count(*) as period_days,
        avg(sku_days.on_hand) as avg_on_hand,
        sum(case when sku_days.stock_date = period.period_last_day then sku_days.on_hand else 0 end)
            as ending_on_hand,
        sum(sku_days.units_shipped) as units_sold,
        sum(sku_days.units_received) as units_received,
        sum(sku_days.stockout_days) as stockout_days,
        max(case when sku_days.units_shipped > 0 then sku_days.stock_date end) as last_sold_date

    from sku_days
    cross join period
    group by sku_days.sku_id

),

sku_sales as (

    select
        sku_id,
        sum(quantity) as units_ordered,
        sum(net_minor) as revenue_minor

    from order_lines
    group by sku_id

),

ranked as (

    select
        sku_id,
        revenue_minor,
        coalesce(sum(revenue_minor) over (
            order by revenue_minor desc, sku_id asc
            rows between unbounded preceding and 1 preceding
        ), 0) as revenue_before_minor,
        sum(revenue_minor) over () as total_revenue_minor

    from sku_sales

),

abc as (

    select
        sku_id,
        1.0 * (revenue_before_minor + revenue_minor) / nullif(total_revenue_minor, 0)
            as cumulative_revenue_share,
        case
            when revenue_before_minor < 0.80 * total_revenue_minor then 'A'
            when revenue_before_minor < 0.95 * total_revenue_minor then 'B'
            else 'C'
        end as abc_class

    from ranked

),

joined as (

    select
        skus.sku_id,
        skus.product_id,
        skus.sku_code,
        skus.unit_cost_minor,
        sku_stock.period_first_day,
        sku_stock.period_last_day,
        coalesce(sku_stock.period_days, 0) as period_days,
        sku_stock.avg_on_hand,
        coalesce(sku_stock.ending_on_hand, 0) as ending_on_hand,
        coalesce(sku_stock.units_sold, 0) as units_sold,
        coalesce(sku_stock.units_received, 0) as units_received,
        coalesce(sku_stock.stockout_days, 0) as stockout_days,
        sku_stock.last_sold_date,
        coalesce(sku_sales.units_ordered, 0) as units_ordered,
        coalesce(sku_sales.revenue_minor, 0) as revenue_minor,
        abc.cumulative_revenue_share,
        abc.abc_class

    from skus
    left join sku_stock
        on skus.sku_id = sku_stock.sku_id
    left join sku_sales
        on skus.sku_id = sku_sales.sku_id
    left join abc
        on skus.sku_id = abc.sku_id

),

measures as (

    select
        *,
        units_sold * unit_cost_minor as cogs_minor,
        avg_on_hand * unit_cost_minor as avg_inventory_value_minor,
        1.0 * units_sold / nullif(units_sold + ending_on_hand, 0) as sell_through,
        avg_on_hand / nullif(1.0 * units_sold / nullif(period_days, 0), 0) as days_of_inventory

    from joined

),

final as (

    select
        ---------- ids
        sku_id,
        product_id,
        sku_code,
        ---------- strings
        abc_class,
        ---------- numerics
        cast(period_days as {{ dbt.type_bigint() }}) as period_days,
        cast(units_received as {{ dbt.type_bigint() }}) as units_received,
        cast(units_sold as {{ dbt.type_bigint() }}) as units_sold,
        cast(units_ordered as {{ dbt.type_bigint() }}) as units_ordered,
        cast(ending_on_hand as {{ dbt.type_bigint() }}) as ending_on_hand,
        cast(avg_on_hand as decimal(18, 2)) as avg_on_hand,
        unit_cost_minor,
        cast(revenue_minor as {{ dbt.type_bigint() }}) as revenue_minor,
        cast(cogs_minor as {{ dbt.type_bigint() }}) as cogs_minor,
        {{ minor_to_amount('revenue_minor') }} as revenue_amount,
        {{ minor_to_amount('cogs_minor') }} as cogs_amount,
        cast(
            cast(avg_inventory_value_minor as decimal(18, 4)) * {{ minor_unit() }} as decimal(18, 2)
        ) as avg_inventory_value_amount,
        cast(1.0 * cogs_minor / nullif(avg_inventory_value_minor, 0) as decimal(18, 4)) as turnover,
        cast(days_of_inventory as decimal(18, 2)) as days_of_inventory,
        cast(sell_through as decimal(18, 4)) as sell_through,
        cast(cumulative_revenue_share as decimal(18, 4)) as cumulative_revenue_share,
        cast(stockout_days as {{ dbt.type_bigint() }}) as stockout_days,
        ---------- booleans
        coalesce(
            period_days > 0
            and (
                last_sold_date is null
                or last_sold_date <= {{ dbt.dateadd('day', -window_days, 'period_last_day') }}
                or sell_through < {{ sell_through_floor }}
            ),
            false
        ) as is_slow_mover,
        ---------- dates
        last_sold_date,
        period_first_day,
        period_last_day

    from measures

)

select * from final
