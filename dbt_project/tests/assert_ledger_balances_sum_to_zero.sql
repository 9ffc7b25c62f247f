-- Σ of all account balances is 0 (balances are debit − credit): on every day,
-- for the day's movements and for the running balances carried to that day;
-- and each account's last running balance equals Σ of its ledger lines.
-- Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_ledger_balances_daily'}}}) }}


with

balances as (

    select * from {{ ref('mart_ledger_balances_daily') }}

),

ledger_lines as (

    select * from {{ ref('fct_ledger_lines') }}

),

days as (

    select distinct balance_date from balances

),

-- Each account's running balance as of each day (its last day on or before).
carried as (

    select
        days.balance_date,
        balances.ledger_account,
        balances.payment_provider,
        balances.running_balance_minor,
        row_number() over (
            partition by days.balance_date, balances.ledger_account, balances.payment_provider
            order by balances.balance_date desc
        ) as recency

    from days
    inner join balances
        on days.balance_date >= balances.balance_date

),

day_rows as (

    select 'day balances do not sum to 0 on ' || cast(balance_date as varchar) as failure
    from balances
    group by 1
    having sum(balance_minor) <> 0

),

carried_rows as (

    select 'running balances do not sum to 0 on ' || cast(balance_date as varchar) as failure
    from carried
    where recency = 1
    group by 1
    having sum(running_balance_minor) <> 0

),

line_totals as (

    select
        ledger_account,
        payment_provider,
        sum(balance_minor) as balance_minor
    from ledger_lines
    group by 1, 2

),

last_day as (

    select max(balance_date) as balance_date from days

),

last_balances as (

    select
        carried.ledger_account,
        carried.payment_provider,
        carried.running_balance_minor
    from carried
    inner join last_day
        on carried.balance_date = last_day.balance_date
    where carried.recency = 1

),

account_rows as (

    select 'account ' || line_totals.ledger_account || ' differs from its lines' as failure
    from line_totals
    left join last_balances
        on
            line_totals.ledger_account = last_balances.ledger_account
            and coalesce(line_totals.payment_provider, '')
            = coalesce(last_balances.payment_provider, '')
    where
        last_balances.running_balance_minor is null
        or last_balances.running_balance_minor <> line_totals.balance_minor

)

select * from day_rows
union all
select * from carried_rows
union all
select * from account_rows
