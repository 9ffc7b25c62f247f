-- Grain: one ledger account × provider (null for accounts not kept per
-- provider) × store-local day with postings. balance_minor = that day's
-- debits − credits; running_balance_minor = the account's balance at the end
-- of the day (Σ of its days so far). Credit-normal accounts read negative and
-- every day's balances, like every running total, sum to 0 over accounts.

with

ledger_lines as (

    select * from {{ ref('fct_ledger_lines') }}

),

daily as (

    select
        ledger_account,
        account_type,
        payment_provider,
        posted_date as balance_date,
        count(*) as ledger_lines,
        sum(debit_minor) as debit_minor,
        sum(credit_minor) as credit_minor,
        sum(balance_minor) as balance_minor

    from ledger_lines
    group by 1, 2, 3, 4

),

running as (

    select
        *,
        sum(balance_minor) over (
            partition by ledger_account, payment_provider
            order by balance_date
            rows between unbounded preceding and current row
        ) as running_balance_minor

    from daily

),

final as (

    select
        ---------- ids
        {{ dbt.concat([
            "ledger_account", "':'", "coalesce(payment_provider, '')", "':'",
            dbt.cast("balance_date", dbt.type_string())
        ]) }} as balance_id,
        ---------- strings
        ledger_account,
        account_type,
        payment_provider,
        ---------- numerics
        cast(ledger_lines as {{ dbt.type_bigint() }}) as ledger_lines,
        cast(debit_minor as {{ dbt.type_bigint() }}) as debit_minor,
        cast(credit_minor as {{ dbt.type_bigint() }}) as credit_minor,
        cast(balance_minor as {{ dbt.type_bigint() }}) as balance_minor,
        cast(running_balance_minor as {{ dbt.type_bigint() }}) as running_balance_minor,
        {{ minor_to_amount('balance_minor') }} as balance_amount,
        {{ minor_to_amount('running_balance_minor') }} as running_balance_amount,
        ---------- dates
        balance_date

    from running

)

select * from final
