-- ABC classes partition the SKUs with sales (BEY-3): every SKU on a paid
-- order line has exactly one class, no other SKU has one, the classes' revenue
-- adds up to the order lines' net revenue, and A holds at least 80 % of it.
-- Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_inventory_sku'}}}) }}


with

inventory as (

    select * from {{ ref('mart_inventory_sku') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

skus_with_sales as (

    select distinct sku_id

    from order_lines

),

sku_rows as (

    select 'SKU ' || coalesce(inventory.sku_id, skus_with_sales.sku_id) as failure

    from inventory
    full outer join skus_with_sales
        on inventory.sku_id = skus_with_sales.sku_id
    where
        (skus_with_sales.sku_id is null and inventory.abc_class is not null)
        or (skus_with_sales.sku_id is not null and inventory.abc_class is null)

),

class_totals as (

    select
        coalesce(sum(revenue_minor), 0) as revenue_minor,
        coalesce(sum(case when abc_class = 'A' then revenue_minor else 0 end), 0) as a_revenue_minor

    from inventory
    where abc_class is not null

),

line_totals as (

    select coalesce(sum(net_minor), 0) as revenue_minor

    from order_lines

),

total_rows as (

    select 'class revenue differs from the order lines, or A under 80 %' as failure

    from class_totals
    cross join line_totals
    where
        class_totals.revenue_minor <> line_totals.revenue_minor
        or class_totals.a_revenue_minor < 0.80 * line_totals.revenue_minor

)

select * from sku_rows
union all
select * from total_rows
