-- Grain: one store-local day with a sale or a return. Sales (orders, units,
-- gross, discounts, tax, shipping) are dated by the day the order became
-- paid; returns by the day the refund succeeded (DECISIONLOG.md §5), so a
-- day's net = its gross − its discounts − its returns.

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

sales_by_day as (

    select
        sale_date,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor,
        sum(tax_minor) as tax_minor

    from order_lines
    group by 1

),

shipping_by_day as (

    select
        paid_date as sale_date,
        sum(shipping_minor) as shipping_minor

    from orders
    group by 1

),

returns_by_day as (

    select
        return_date as sale_date,
        sum(returns_minor) as returns_minor

    from returns
    group by 1

),

days as (

    select sale_date from sales_by_day
    union
    select sale_date from returns_by_day

),

joined as (

    select
        days.sale_date,
        coalesce(sales_by_day.orders, 0) as orders,
        coalesce(sales_by_day.units, 0) as units,
        coalesce(sales_by_day.gross_minor, 0) as gross_minor,
        coalesce(sales_by_day.discount_minor, 0) as discount_minor,
        coalesce(returns_by_day.returns_minor, 0) as returns_minor,
        coalesce(sales_by_day.tax_minor, 0) as tax_minor,
        coalesce(shipping_by_day.shipping_minor, 0) as shipping_minor

    from days
    left join sales_by_day
        on days.sale_date = sales_by_day.sale_date
    left join shipping_by_day
        on days.sale_date = shipping_by_day.sale_date
    left join returns_by_day
        on days.sale_date = returns_by_day.sale_date

),

final as (

    select
        ---------- dates
        sale_date,
        ---------- numerics
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(gross_minor - discount_minor - returns_minor as {{ dbt.type_bigint() }}) as net_minor,
        cast(tax_minor as {{ dbt.type_bigint() }}) as tax_minor,
        cast(shipping_minor as {{ dbt.type_bigint() }}) as shipping_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        {{ minor_to_amount('returns_minor') }} as returns_amount,
        {{ minor_to_amount('gross_minor - discount_minor - returns_minor') }} as net_amount,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        {{ minor_to_amount('shipping_minor') }} as shipping_amount,
        -- AOV: order value after discounts, before tax, shipping and returns.
        cast(
            {{ minor_to_amount('gross_minor - discount_minor') }}
            / nullif(orders, 0) as decimal(18, 2)
        ) as aov_amount

    from joined

)

select * from final
