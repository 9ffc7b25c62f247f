-- Metric identity (BEY-3): every paid order is new or returning, once. Per
-- store-local day, new + returning orders of mart_new_vs_returning_daily =
-- orders of mart_daily_sales, and its units and gross re-add too; a
-- buyer's first order is the only new one (exactly one new order per buyer
-- in fct_buyer_orders). Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_new_vs_returning_daily'}}}) }}


with

daily as (

    select * from {{ ref('mart_daily_sales') }}

),

by_buyer_type as (

    select * from {{ ref('mart_new_vs_returning_daily') }}

),

buyer_orders as (

    select * from {{ ref('fct_buyer_orders') }}

),

typed_days as (

    select
        sale_date,
        sum(case when buyer_type = 'new' then orders else 0 end) as new_orders,
        sum(case when buyer_type = 'returning' then orders else 0 end)
            as returning_orders,
        sum(units) as units,
        sum(gross_minor) as gross_minor

    from by_buyer_type
    group by 1

),

sale_days as (

    select * from daily
    where orders > 0

),

day_failures as (

    select
        'new + returning differ from all orders on '
        || cast(
            coalesce(sale_days.sale_date, typed_days.sale_date) as {{ dbt.type_string() }}
        ) as failure

    from sale_days
    full outer join typed_days
        on sale_days.sale_date = typed_days.sale_date
    where
        coalesce(typed_days.new_orders, 0) + coalesce(typed_days.returning_orders, 0)
        <> coalesce(sale_days.orders, 0)
        or coalesce(typed_days.units, 0) <> coalesce(sale_days.units, 0)
        or coalesce(typed_days.gross_minor, 0) <> coalesce(sale_days.gross_minor, 0)

),

buyer_failures as (

    select 'buyer ' || buyer_key || ' has no single first order' as failure
    from buyer_orders
    group by 1
    having sum(case when buyer_type = 'new' then 1 else 0 end) <> 1

)

select * from day_failures
union all
select * from buyer_failures
