-- Grain: one store-local day × payment method with a provider fee.
-- Fees are the ledger's provider_fees debits (less credits, should a reversal
-- occur), dated by the day they were posted (with each capture); captured is
-- what the same method's capture postings recognized that day (revenue, tax
-- and shipping credits), so the effective fee rate can be read beside it.

with

ledger_lines as (

    select * from {{ ref('fct_ledger_lines') }}

),

fees as (

    select
        posted_date as fee_date,
        payment_method,
        count(distinct posting_id) as fee_postings,
        sum(balance_minor) as fee_minor

    from ledger_lines
    where ledger_account = 'provider_fees'
    group by 1, 2

),

captures as (

    select
        posted_date as fee_date,
        payment_method,
        sum(credit_minor - debit_minor) as captured_minor

    from ledger_lines
    where
        posting_kind = 'capture'
        and ledger_account in ('sales_revenue', 'tax_payable', 'shipping_revenue')
    group by 1, 2

),

joined as (

    select
        fees.fee_date,
        fees.payment_method,
        fees.fee_postings,
        fees.fee_minor,
        coalesce(captures.captured_minor, 0) as captured_minor

    from fees
    left join captures
        on
            fees.fee_date = captures.fee_date
            and fees.payment_method = captures.payment_method

),

final as (

    select
        ---------- dates
        fee_date,
        ---------- strings
        payment_method,
        ---------- numerics
        cast(fee_postings as {{ dbt.type_bigint() }}) as fee_postings,
        cast(fee_minor as {{ dbt.type_bigint() }}) as fee_minor,
        cast(captured_minor as {{ dbt.type_bigint() }}) as captured_minor,
        {{ minor_to_amount('fee_minor') }} as fee_amount,
        {{ minor_to_amount('captured_minor') }} as captured_amount,
        cast(
            100 * fee_minor / nullif(cast(captured_minor as decimal(18, 2)), 0)
            as decimal(9, 4)
        ) as fee_rate_pct

    from joined

)

select * from final
