-- Grain: cohort month (store-local month of a customer's first paid order).
-- Repeat purchase rate = customers with two or more paid orders / customers;
-- days between orders = store-local days from one paid order to the same
-- customer's next, median over every such gap of the cohort's customers (null
-- until someone orders twice). Guests have no customer id and are left out.

with

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where
        paid_at is not null
        and customer_id is not null

),

sequenced as (

    select
        customer_id,
        order_id,
        paid_date,
        row_number() over (
            partition by customer_id
            order by paid_at, order_id
        ) as order_no,
        lag(paid_date) over (
            partition by customer_id
            order by paid_at, order_id
        ) as previous_paid_date

    from orders

),

customers as (

    select
        customer_id,
        {{ dbt.date_trunc('month', 'min(paid_date)') }} as cohort_month,
        count(*) as orders

    from sequenced
    group by 1

),

gaps as (

    select
        customers.cohort_month,
        {{ dbt.datediff('sequenced.previous_paid_date', 'sequenced.paid_date', 'day') }}
            as days_between_orders

    from sequenced
    inner join customers
        on sequenced.customer_id = customers.customer_id
    where sequenced.previous_paid_date is not null

),

by_cohort as (

    select
        cohort_month,
        count(*) as customers,
        sum(case when orders >= 2 then 1 else 0 end) as repeat_customers,
        sum(orders) as orders

    from customers
    group by 1

),

gaps_by_cohort as (

    select
        cohort_month,
        count(*) as repeat_orders,
        percentile_cont(0.5) within group (order by days_between_orders)
            as median_days_between_orders

    from gaps
    group by 1

),

final as (

    select
        ---------- dates
        cast(by_cohort.cohort_month as date) as cohort_month,
        ---------- numerics
        cast(by_cohort.customers as {{ dbt.type_bigint() }}) as customers,
        cast(by_cohort.repeat_customers as {{ dbt.type_bigint() }})
            as repeat_customers,
        cast(by_cohort.orders as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(gaps_by_cohort.repeat_orders, 0) as {{ dbt.type_bigint() }})
            as repeat_orders,
        cast(
            cast(by_cohort.repeat_customers as decimal(18, 6))
            / nullif(by_cohort.customers, 0)
            as decimal(9, 6)
        ) as repeat_purchase_rate,
        cast(gaps_by_cohort.median_days_between_orders as double)
            as median_days_between_orders

    from by_cohort
    left join gaps_by_cohort
        on by_cohort.cohort_month = gaps_by_cohort.cohort_month

)

select * from final
