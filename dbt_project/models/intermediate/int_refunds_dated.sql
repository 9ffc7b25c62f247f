-- Succeeded refunds, dated by the ledger posting that booked them: a return is
-- dated by the store-local day it was made (DECISIONLOG.md §5), which is the
-- commit in which the refund succeeded and the ledger debited `refunds`.

with

refunds as (

    select * from {{ ref('stg_lake__refunds') }}

),

ledger_postings as (

    select * from {{ ref('stg_lake__ledger_postings') }}

),

refund_postings as (

    select
        reference_id as refund_id,
        min(posted_at) as refunded_at

    from ledger_postings
    where
        reference_type = 'refund'
        and kind = 'refund'
    group by 1

),

succeeded as (

    select
        ---------- ids
        refunds.refund_id,
        refunds.order_id,
        refunds.payment_id,
        ---------- strings
        refunds.destination,
        refunds.reason,
        refunds.lines_json,
        ---------- booleans
        refunds.lines_json is not null as is_by_lines,
        ---------- numerics
        refunds.amount_minor,
        refunds.revenue_minor,
        refunds.tax_minor,
        refunds.shipping_minor,
        ---------- timestamps
        refund_postings.refunded_at,
        {{ store_local_date('refund_postings.refunded_at') }} as refunded_date

    from refunds
    inner join refund_postings
        on refunds.refund_id = refund_postings.refund_id
    where refunds.refund_status = 'succeeded'

)

select * from succeeded
