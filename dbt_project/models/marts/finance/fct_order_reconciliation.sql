-- Grain: one order that is a sale (became paid) or that the ledger touched.
-- Reconciles like with like, per order (DECISIONLOG.md §5, §7): the sales
-- marts' figure is what a sale is worth to the customer after refunds and
-- cancellations, Σ line (gross − discounts + tax) + shipping − Σ refunded
-- (refund returns, their tax and refunded shipping) − Σ cancelled (the sale's
-- card holds given back, int_cancellations_dated: revenue, tax and shipping),
-- 0 for an order that never became paid; the
-- ledger's figure is what it recognized for the order at capture, less what
-- it booked as refunded, plus the card hold still open (customer_receivable,
-- e.g. a capture declined after the goods left). An order never paid whose
-- money was secured and given back (a late authorization of an expired
-- order) nets to 0 in the ledger. Dated by the day the order became paid,
-- else by its first posting.

with

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

refunds as (

    select * from {{ ref('int_refunds_dated') }}

),

cancellations as (

    select * from {{ ref('int_cancellations_dated') }}

),

ledger_lines as (

    select * from {{ ref('fct_ledger_lines') }}

),

sold as (

    select
        order_id,
        sum(gross_minor - discount_minor + tax_minor) as lines_total_minor

    from order_lines
    group by 1

),

returned as (

    select
        order_id,
        sum(returns_minor + returned_tax_minor) as returned_minor

    from returns
    -- Cancellation rows carry revenue and tax only; the whole cancelled
    -- amount, shipping included, comes from the cancellations themselves.
    where return_kind = 'refund'
    group by 1

),

cancelled as (

    select
        order_id,
        sum(revenue_minor + tax_minor + shipping_minor) as cancelled_minor

    from cancellations
    group by 1

),

refunded_shipping as (

    select
        order_id,
        sum(shipping_minor) as refunded_shipping_minor

    from refunds
    group by 1

),

booked as (

    select
        order_id,
        min(posted_date) as first_posted_date,
        sum(
            case
                when
                    posting_kind <> 'refund'
                    and ledger_account in (
                        'sales_revenue', 'tax_payable', 'shipping_revenue', 'refunds'
                    )
                    then credit_minor - debit_minor
                else 0
            end
        ) as ledger_captured_minor,
        sum(
            case
                when
                    posting_kind = 'refund'
                    and ledger_account in (
                        'sales_revenue', 'tax_payable', 'shipping_revenue', 'refunds'
                    )
                    then debit_minor - credit_minor
                else 0
            end
        ) as ledger_refunded_minor,
        sum(
            case
                when ledger_account = 'customer_receivable' then debit_minor - credit_minor
                else 0
            end
        ) as ledger_open_hold_minor

    from ledger_lines
    where order_id is not null
    group by 1

),

joined as (

    select
        orders.order_id,
        orders.order_status,
        orders.paid_at is not null as is_paid,
        coalesce(orders.paid_date, booked.first_posted_date) as reconciliation_date,
        case
            when orders.paid_at is not null
                then coalesce(sold.lines_total_minor, 0) + orders.shipping_minor
            else 0
        end as sales_total_minor,
        case
            when orders.paid_at is not null
                then
                    coalesce(returned.returned_minor, 0)
                    + coalesce(refunded_shipping.refunded_shipping_minor, 0)
            else 0
        end as sales_refunded_minor,
        case
            when orders.paid_at is not null
                then coalesce(cancelled.cancelled_minor, 0)
            else 0
        end as sales_cancelled_minor,
        coalesce(booked.ledger_captured_minor, 0) as ledger_captured_minor,
        coalesce(booked.ledger_refunded_minor, 0) as ledger_refunded_minor,
        coalesce(booked.ledger_open_hold_minor, 0) as ledger_open_hold_minor

    from orders
    left join sold
        on orders.order_id = sold.order_id
    left join returned
        on orders.order_id = returned.order_id
    left join refunded_shipping
        on orders.order_id = refunded_shipping.order_id
    left join cancelled
        on orders.order_id = cancelled.order_id
    left join booked
        on orders.order_id = booked.order_id
    where
        orders.paid_at is not null
        or booked.order_id is not null

),

figures as (

    select
        *,
        sales_total_minor - sales_refunded_minor - sales_cancelled_minor
            as sales_figure_minor,
        ledger_captured_minor - ledger_refunded_minor + ledger_open_hold_minor
            as ledger_figure_minor

    from joined

),

final as (

    select
        ---------- ids
        order_id,
        ---------- strings
        order_status,
        case
            when ledger_figure_minor = sales_figure_minor then 'matched'
            else 'difference'
        end as status,
        ---------- booleans
        is_paid,
        ---------- numerics
        cast(sales_total_minor as {{ dbt.type_bigint() }}) as sales_total_minor,
        cast(sales_refunded_minor as {{ dbt.type_bigint() }}) as sales_refunded_minor,
        cast(sales_cancelled_minor as {{ dbt.type_bigint() }}) as sales_cancelled_minor,
        cast(sales_figure_minor as {{ dbt.type_bigint() }}) as sales_figure_minor,
        cast(ledger_captured_minor as {{ dbt.type_bigint() }}) as ledger_captured_minor,
        cast(ledger_refunded_minor as {{ dbt.type_bigint() }}) as ledger_refunded_minor,
        cast(ledger_open_hold_minor as {{ dbt.type_bigint() }}) as ledger_open_hold_minor,
        cast(ledger_figure_minor as {{ dbt.type_bigint() }}) as ledger_figure_minor,
        cast(ledger_figure_minor - sales_figure_minor as {{ dbt.type_bigint() }})
            as difference_minor,
        {{ minor_to_amount('sales_figure_minor') }} as sales_figure_amount,
        {{ minor_to_amount('ledger_figure_minor') }} as ledger_figure_amount,
        {{ minor_to_amount('ledger_figure_minor - sales_figure_minor') }} as difference_amount,
        ---------- dates
        reconciliation_date

    from figures

)

select * from final
