-- Grain: cohort month × months since the first order. A customer's cohort is
-- the store-local month of their first paid order (guests, who have no
-- customer id, are in no cohort). For every month from the cohort's own to
-- the last month with a sale: customers active (a paid order that month),
-- orders and net revenue of those orders (BEY-9: retention on orders and on
-- revenue). An order's net revenue is its lines' net (gross − discounts −
-- returns by lines) less its amount-only refunds, on the order's paid month.

with

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where
        paid_at is not null
        and customer_id is not null

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

line_net as (

    select
        order_id,
        sum(net_minor) as net_minor

    from order_lines
    group by 1

),

amount_only_returns as (

    select
        order_id,
        sum(returns_minor) as returns_minor

    from returns
    where order_line_id is null
    group by 1

),

customer_orders as (

    select
        orders.order_id,
        orders.customer_id,
        {{ dbt.date_trunc('month', 'orders.paid_date') }} as activity_month,
        coalesce(line_net.net_minor, 0)
        - coalesce(amount_only_returns.returns_minor, 0) as net_minor

    from orders
    left join line_net
        on orders.order_id = line_net.order_id
    left join amount_only_returns
        on orders.order_id = amount_only_returns.order_id

),

cohorts as (

    select
        customer_id,
        min(activity_month) as cohort_month

    from customer_orders
    group by 1

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_customers

    from cohorts
    group by 1

),

months as (

    select distinct activity_month from customer_orders

),

cohort_months as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customers,
        months.activity_month

    from cohort_sizes
    inner join months
        on cohort_sizes.cohort_month <= months.activity_month

),

activity as (

    select
        cohorts.cohort_month,
        customer_orders.activity_month,
        count(distinct customer_orders.customer_id) as active_customers,
        count(*) as orders,
        sum(customer_orders.net_minor) as net_minor

    from customer_orders
    inner join cohorts
        on customer_orders.customer_id = cohorts.customer_id
    group by 1, 2

),

joined as (

    select
        cohort_months.cohort_month,
        cohort_months.activity_month,
        cohort_months.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.net_minor, 0) as net_minor

    from cohort_months
    left join activity
        on
            cohort_months.cohort_month = activity.cohort_month
            and cohort_months.activity_month = activity.activity_month

),

with_first_month as (

    select
        *,
        sum(case when cohort_month = activity_month then net_minor else 0 end)
            over (partition by cohort_month) as first_month_net_minor

    from joined

),

final as (

    select
        ---------- dates
        cast(cohort_month as date) as cohort_month,
        cast(activity_month as date) as activity_month,
        ---------- numerics
        cast(
            {{ dbt.datediff('cohort_month', 'activity_month', 'month') }}
            as integer
        ) as months_since_first_order,
        cast(cohort_customers as {{ dbt.type_bigint() }}) as cohort_customers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(net_minor as {{ dbt.type_bigint() }}) as net_minor,
        {{ minor_to_amount('net_minor') }} as net_amount,
        cast(
            cast(active_customers as decimal(18, 6)) / nullif(cohort_customers, 0)
            as decimal(9, 6)
        ) as customer_retention_rate,
        cast(
            cast(net_minor as decimal(18, 6)) / nullif(first_month_net_minor, 0)
            as decimal(12, 6)
        ) as net_revenue_retention_rate

    from with_first_month

)

select * from final
