-- Grain: one refunded order line of a refund by lines, or one amount-only
-- refund (order_line_id null), or one order line of a cancellation (a sale's
-- card hold given back by a void or an expiry, int_cancellations_dated), or
-- one order-level cancellation after a partial capture (order_line_id null).
-- return_kind says which: 'refund' | 'cancellation'. Returns are amounts net
-- of tax; an amount-only refund counts as a return too (DECISIONLOG.md §5).
-- A refund is dated by the store-local day it succeeded, a cancellation by
-- the day of the ledger's release posting. Only give-backs of sales (orders
-- that became paid) are returns: money given back for an order that expired
-- while its payment was being secured never was a sale.

with

refunds as (

    select * from {{ ref('int_refunds_dated') }}

),

refund_lines as (

    select * from {{ ref('int_refund_lines_unnested') }}

),

cancellations as (

    select * from {{ ref('int_cancellations_dated') }}

),

cancellation_lines as (

    select * from {{ ref('int_cancellation_lines_allocated') }}

),

paid_orders as (

    select order_id from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

by_lines as (

    select
        'refund' as return_kind,
        refund_id as source_id,
        refund_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as cancellation_id,
        order_id,
        order_line_id,
        quantity,
        revenue_minor as returns_minor,
        tax_minor as returned_tax_minor,
        refunded_at,
        refunded_date

    from refund_lines

),

amount_only as (

    select
        'refund' as return_kind,
        refund_id as source_id,
        refund_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as cancellation_id,
        order_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as order_line_id,
        {{ dbt.safe_cast('0', 'bigint') }} as quantity,
        revenue_minor as returns_minor,
        tax_minor as returned_tax_minor,
        refunded_at,
        refunded_date

    from refunds
    where not is_by_lines

),

cancelled_lines as (

    select
        'cancellation' as return_kind,
        cancellation_id as source_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as refund_id,
        cancellation_id,
        order_id,
        order_line_id,
        quantity,
        revenue_minor as returns_minor,
        tax_minor as returned_tax_minor,
        cancelled_at as refunded_at,
        cancelled_date as refunded_date

    from cancellation_lines

),

-- After a partial capture the ledger's remainder has no per-line split: the
-- cancellation is one order-level row, like an amount-only refund.
cancelled_amount as (

    select
        'cancellation' as return_kind,
        cancellation_id as source_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as refund_id,
        cancellation_id,
        order_id,
        {{ dbt.safe_cast('null', dbt.type_string()) }} as order_line_id,
        {{ dbt.safe_cast('0', 'bigint') }} as quantity,
        revenue_minor as returns_minor,
        tax_minor as returned_tax_minor,
        cancelled_at as refunded_at,
        cancelled_date as refunded_date

    from cancellations
    where not is_by_lines

),

unioned as (

    select * from by_lines
    union all
    select * from amount_only
    union all
    select * from cancelled_lines
    union all
    select * from cancelled_amount

),

final as (

    select
        ---------- ids
        {{ dbt.concat(["source_id", "':'", "coalesce(order_line_id, 'amount')"]) }} as return_id,
        refund_id,
        cancellation_id,
        order_id,
        order_line_id,
        ---------- strings
        return_kind,
        ---------- booleans
        order_line_id is not null as is_by_lines,
        ---------- numerics
        quantity,
        returns_minor,
        returned_tax_minor,
        {{ minor_to_amount('returns_minor') }} as returns_amount,
        ---------- dates
        refunded_date as return_date,
        ---------- timestamps
        refunded_at as returned_at

    from unioned
    where order_id in (select paid_orders.order_id from paid_orders)

)

select * from final
