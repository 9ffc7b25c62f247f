-- Grain: one line of a double-entry ledger posting (DECISIONLOG.md §7), with
-- its posting's kind, references and store-local date, the account's type and
-- the paying method of the posting's payment. balance_minor = debit − credit,
-- so credit-normal accounts read negative and all lines together sum to 0.

with

ledger_lines as (

    select * from {{ ref('stg_lake__ledger_lines') }}

),

ledger_postings as (

    select * from {{ ref('stg_lake__ledger_postings') }}

),

payments as (

    select * from {{ ref('stg_lake__payments') }}

),

joined as (

    select
        ---------- ids
        ledger_lines.ledger_line_id,
        ledger_lines.posting_id,
        ledger_postings.reference_id,
        ledger_postings.reverses,
        ledger_postings.order_id,
        ledger_postings.payment_id,
        ---------- strings
        ledger_postings.kind as posting_kind,
        ledger_postings.reference_type,
        ledger_lines.ledger_account,
        case
            when ledger_lines.ledger_account in (
                'bank', 'provider_clearing', 'customer_receivable'
            ) then 'asset'
            when ledger_lines.ledger_account = 'authorization_holds' then 'memo'
            when ledger_lines.ledger_account in (
                'tax_payable', 'store_credit_liability'
            ) then 'liability'
            when ledger_lines.ledger_account in (
                'sales_revenue', 'shipping_revenue'
            ) then 'revenue'
            when ledger_lines.ledger_account = 'refunds' then 'contra_revenue'
            when ledger_lines.ledger_account in (
                'provider_fees', 'voucher_expense'
            ) then 'expense'
        end as account_type,
        ledger_lines.payment_provider,
        payments.payment_method,
        ---------- numerics
        ledger_lines.line_no,
        ledger_lines.debit_minor,
        ledger_lines.credit_minor,
        ledger_lines.debit_minor - ledger_lines.credit_minor as balance_minor,
        ---------- timestamps
        ledger_postings.posted_at,
        ledger_postings.posted_date

    from ledger_lines
    inner join ledger_postings
        on ledger_lines.posting_id = ledger_postings.posting_id
    left join payments
        on ledger_postings.payment_id = payments.payment_id

),

final as (

    select
        ---------- ids
        ledger_line_id,
        posting_id,
        reference_id,
        reverses,
        order_id,
        payment_id,
        ---------- strings
        posting_kind,
        reference_type,
        ledger_account,
        account_type,
        payment_provider,
        payment_method,
        ---------- numerics
        line_no,
        cast(debit_minor as {{ dbt.type_bigint() }}) as debit_minor,
        cast(credit_minor as {{ dbt.type_bigint() }}) as credit_minor,
        cast(balance_minor as {{ dbt.type_bigint() }}) as balance_minor,
        {{ minor_to_amount('debit_minor') }} as debit_amount,
        {{ minor_to_amount('credit_minor') }} as credit_amount,
        {{ minor_to_amount('balance_minor') }} as balance_amount,
        ---------- dates
        posted_date,
        ---------- timestamps
        posted_at

    from joined

)

select * from final
