-- Grain: one store-local day (the day the reconciled orders became paid, or
-- an unpaid order's first posting). The sales marts' figure against the
-- ledger's for the same orders and the same definition (fct_order_reconciliation),
-- to the cent: status 'difference' flags any day whose totals differ or that
-- holds an order that differs, so offsetting differences cannot hide.

with

orders as (

    select * from {{ ref('fct_order_reconciliation') }}

),

daily as (

    select
        reconciliation_date,
        count(*) as orders,
        sum(case when is_paid then 1 else 0 end) as paid_orders,
        sum(case when status = 'matched' then 1 else 0 end) as orders_matched,
        sum(case when status = 'difference' then 1 else 0 end) as orders_with_difference,
        sum(case when is_paid then 0 else 1 end) as unpaid_orders,
        sum(case when is_paid then 0 else ledger_figure_minor end) as unpaid_ledger_net_minor,
        sum(sales_figure_minor) as sales_figure_minor,
        sum(ledger_captured_minor) as ledger_captured_minor,
        sum(ledger_refunded_minor) as ledger_refunded_minor,
        sum(ledger_open_hold_minor) as ledger_open_hold_minor,
        sum(ledger_figure_minor) as ledger_figure_minor

    from orders
    group by 1

),

final as (

    select
        ---------- dates
        reconciliation_date,
        ---------- strings
        case
            when
                ledger_figure_minor = sales_figure_minor
                and orders_with_difference = 0
                then 'matched'
            else 'difference'
        end as status,
        ---------- numerics
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(paid_orders as {{ dbt.type_bigint() }}) as paid_orders,
        cast(orders_matched as {{ dbt.type_bigint() }}) as orders_matched,
        cast(orders_with_difference as {{ dbt.type_bigint() }}) as orders_with_difference,
        cast(unpaid_orders as {{ dbt.type_bigint() }}) as unpaid_orders,
        cast(unpaid_ledger_net_minor as {{ dbt.type_bigint() }}) as unpaid_ledger_net_minor,
        cast(sales_figure_minor as {{ dbt.type_bigint() }}) as sales_figure_minor,
        cast(ledger_captured_minor as {{ dbt.type_bigint() }}) as ledger_captured_minor,
        cast(ledger_refunded_minor as {{ dbt.type_bigint() }}) as ledger_refunded_minor,
        cast(ledger_open_hold_minor as {{ dbt.type_bigint() }}) as ledger_open_hold_minor,
        cast(ledger_figure_minor as {{ dbt.type_bigint() }}) as ledger_figure_minor,
        cast(ledger_figure_minor - sales_figure_minor as {{ dbt.type_bigint() }})
            as difference_minor,
        {{ minor_to_amount('sales_figure_minor') }} as sales_figure_amount,
        {{ minor_to_amount('ledger_figure_minor') }} as ledger_figure_amount,
        {{ minor_to_amount('ledger_figure_minor - sales_figure_minor') }} as difference_amount

    from daily

)

select * from final
