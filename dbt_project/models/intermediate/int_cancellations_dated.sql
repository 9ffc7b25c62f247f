-- One card hold of a sale given back (voided or expired) without a refund:
-- the ledger's `authorization_release` posting of a paid order's payment.
-- The ledger never recognized that money (revenue is recognized at capture),
-- so the sales marts count it as a return of the sale, a "cancellation",
-- dated by the store-local day of the release posting, the same commit in
-- which the ledger stopped counting the hold (DECISIONLOG, cancellations).
-- Valued at the released amount, split into revenue / tax / shipping as the
-- part of the order the payment never recognized: the order's split less what
-- its captures recognized (largest remainder, services/payments.py), so a
-- capture of parcel 1 plus the released rest add up to the order exactly.
-- Money secured for an order that never became paid is not a sale, so its
-- release is no cancellation (fct_order_reconciliation nets it to 0).

with

ledger_postings as (

    select * from {{ ref('stg_lake__ledger_postings') }}

),

ledger_lines as (

    select * from {{ ref('stg_lake__ledger_lines') }}

),

payments as (

    select * from {{ ref('stg_lake__payments') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

releases as (

    select
        ledger_postings.posting_id,
        ledger_postings.payment_id,
        ledger_postings.order_id,
        ledger_postings.posted_at,
        ledger_lines.debit_minor as released_minor

    from ledger_postings
    inner join ledger_lines
        on ledger_postings.posting_id = ledger_lines.posting_id
    where
        ledger_postings.kind = 'authorization_release'
        and ledger_lines.ledger_account = 'authorization_holds'

),

-- Captured money on the order's other payments too: a cancellation is "by
-- lines" only when nothing of the order was ever captured, so every line's
-- whole value is what came back.
order_captures as (

    select
        order_id,
        sum(captured_minor) as captured_minor

    from payments
    group by 1

),

split as (

    select
        ---------- ids
        releases.posting_id as cancellation_id,
        releases.order_id,
        releases.payment_id,
        ---------- booleans
        coalesce(order_captures.captured_minor, 0) = 0 as is_by_lines,
        ---------- numerics
        releases.released_minor as amount_minor,
        orders.total_minor - orders.tax_minor - orders.shipping_minor
        - payments.recognized_revenue_minor as revenue_minor,
        orders.tax_minor - payments.recognized_tax_minor as tax_minor,
        orders.shipping_minor - payments.recognized_shipping_minor as shipping_minor,
        ---------- timestamps
        releases.posted_at as cancelled_at,
        {{ store_local_date('releases.posted_at') }} as cancelled_date

    from releases
    inner join orders
        on releases.order_id = orders.order_id
    inner join payments
        on releases.payment_id = payments.payment_id
    left join order_captures
        on releases.order_id = order_captures.order_id

)

select * from split
