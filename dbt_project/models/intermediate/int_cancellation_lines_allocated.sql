-- One row per order line of a cancellation by lines (int_cancellations_dated:
-- a sale's hold given back before anything of the order was captured). Every
-- line comes back whole: its revenue (gross − discounts) and tax, its units
-- not shipped and not already cancelled by a refund. The lines add up to the
-- cancellation's revenue and tax because an order's totals are its lines'
-- (assert_cancellations_add_up). A cancellation after a partial capture has
-- no exact per-line split in the ledger, so it stays order-level (fct_returns).

with

cancellations as (

    select * from {{ ref('int_cancellations_dated') }}
    where is_by_lines

),

order_lines as (

    select * from {{ ref('stg_lake__order_lines') }}
    where order_line_status <> 'removed'

),

allocated as (

    select
        ---------- ids
        cancellations.cancellation_id,
        cancellations.order_id,
        order_lines.order_line_id,
        ---------- numerics
        order_lines.quantity - order_lines.quantity_shipped - order_lines.quantity_cancelled
            as quantity,
        order_lines.gross_minor - order_lines.discount_minor as revenue_minor,
        order_lines.tax_minor,
        ---------- timestamps
        cancellations.cancelled_at,
        cancellations.cancelled_date

    from cancellations
    inner join order_lines
        on cancellations.order_id = order_lines.order_id

)

select * from allocated
