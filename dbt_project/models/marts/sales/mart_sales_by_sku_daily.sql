-- Grain: store-local day × sales channel × SKU. Sales (orders, units, gross,
-- discounts, tax) by the day the order became paid, returns by the day the
-- refund succeeded, as in mart_daily_sales, so the two add up to the same net.
-- A refund without lines (amount-only) gives back money no SKU carries: it is
-- a row with a null sku_id under its order's channel. Shipping is charged per
-- order, never per SKU, so it is not here (mart_sales_by_channel_daily).

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

skus as (

    select * from {{ ref('stg_lake__skus') }}

),

products as (

    select * from {{ ref('stg_lake__products') }}

),

categories as (

    select * from {{ ref('stg_lake__categories') }}

),

sales as (

    select
        sale_date,
        sales_channel,
        sku_id,
        order_id,
        quantity as units,
        gross_minor,
        discount_minor,
        tax_minor,
        0 as units_returned,
        0 as returns_minor

    from order_lines

),

line_returns as (

    select
        returns.return_date as sale_date,
        order_lines.sales_channel,
        order_lines.sku_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as order_id,
        0 as units,
        0 as gross_minor,
        0 as discount_minor,
        0 as tax_minor,
        returns.quantity as units_returned,
        returns.returns_minor

    from returns
    inner join order_lines
        on returns.order_line_id = order_lines.order_line_id

),

order_level_returns as (

    select
        returns.return_date as sale_date,
        orders.sales_channel,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as sku_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as order_id,
        0 as units,
        0 as gross_minor,
        0 as discount_minor,
        0 as tax_minor,
        0 as units_returned,
        returns.returns_minor

    from returns
    inner join orders
        on returns.order_id = orders.order_id
    where returns.order_line_id is null

),

unioned as (

    select * from sales
    union all
    select * from line_returns
    union all
    select * from order_level_returns

),

by_day as (

    select
        sale_date,
        sales_channel,
        sku_id,
        count(distinct order_id) as orders,
        sum(units) as units,
        sum(units_returned) as units_returned,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(returns_minor) as returns_minor,
        sum(tax_minor) as tax_minor

    from unioned
    group by 1, 2, 3

),

final as (

    select
        ---------- dates
        by_day.sale_date,
        ---------- ids
        by_day.sku_id,
        skus.product_id,
        products.category_id,
        ---------- strings
        by_day.sales_channel,
        skus.sku_code,
        skus.sku_name,
        products.product_name,
        categories.category_name,
        ---------- numerics
        cast(by_day.orders as {{ dbt.type_bigint() }}) as orders,
        cast(by_day.units as {{ dbt.type_bigint() }}) as units,
        cast(by_day.units_returned as {{ dbt.type_bigint() }}) as units_returned,
        cast(by_day.gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(by_day.discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(by_day.returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(
            by_day.gross_minor - by_day.discount_minor - by_day.returns_minor
            as {{ dbt.type_bigint() }}
        ) as net_minor,
        cast(by_day.tax_minor as {{ dbt.type_bigint() }}) as tax_minor,
        {{ minor_to_amount('by_day.gross_minor') }} as gross_amount,
        {{ minor_to_amount('by_day.discount_minor') }} as discount_amount,
        {{ minor_to_amount('by_day.returns_minor') }} as returns_amount,
        {{ minor_to_amount(
            'by_day.gross_minor - by_day.discount_minor - by_day.returns_minor'
        ) }} as net_amount,
        {{ minor_to_amount('by_day.tax_minor') }} as tax_amount,
        -- Average selling price: what a unit fetched after discounts.
        cast(
            {{ minor_to_amount('by_day.gross_minor - by_day.discount_minor') }}
            / nullif(by_day.units, 0) as decimal(18, 2)
        ) as avg_unit_price_amount

    from by_day
    left join skus
        on by_day.sku_id = skus.sku_id
    left join products
        on skus.product_id = products.product_id
    left join categories
        on products.category_id = categories.category_id

)

select * from final
