-- Every ledger posting balances: Σ debit = Σ credit over its lines, and it
-- has at least two lines (DECISIONLOG.md §7). Returns each failing posting.
{{ config(meta={'dagster': {'ref': {'name': 'fct_ledger_lines'}}}) }}


select
    posting_id,
    count(*) as ledger_lines,
    sum(debit_minor) as debit_minor,
    sum(credit_minor) as credit_minor

from {{ ref('fct_ledger_lines') }}
group by 1
having
    sum(debit_minor) <> sum(credit_minor)
    or count(*) < 2
