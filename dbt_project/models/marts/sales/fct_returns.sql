-- Grain: one refunded order line of a refund by lines, or one amount-only
-- refund (order_line_id null). Returns are refunded amounts net of tax; an
-- amount-only refund counts as a return too (DECISIONLOG.md §5). Dated by the
-- store-local day the refund succeeded. Only refunds of sales (orders that
-- became paid) are returns: money given back for an order that expired while
-- its payment was being secured never was a sale.

with

refunds as (

    select * from {{ ref('int_refunds_dated') }}

),

refund_lines as (

    select * from {{ ref('int_refund_lines_unnested') }}

),

paid_orders as (

    select order_id from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

by_lines as (

    select
        refund_id,
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
        refund_id,
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

unioned as (

    select * from by_lines
    union all
    select * from amount_only

),

final as (

    select
        ---------- ids
        {{ dbt.concat(["refund_id", "':'", "coalesce(order_line_id, 'amount')"]) }} as return_id,
        refund_id,
        order_id,
        order_line_id,
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
