-- A cancellation (int_cancellations_dated) is worth exactly what the ledger
-- released: revenue + tax + shipping = the released amount, no part negative;
-- and a cancellation by lines is its lines' revenue and tax exactly (an
-- order's totals are its lines'). fct_returns and the reconciliation rely on
-- both. Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'int_cancellations_dated'}}}) }}


with

cancellations as (

    select * from {{ ref('int_cancellations_dated') }}

),

cancellation_lines as (

    select
        cancellation_id,
        sum(revenue_minor) as revenue_minor,
        sum(tax_minor) as tax_minor
    from {{ ref('int_cancellation_lines_allocated') }}
    group by 1

),

split_rows as (

    select 'cancellation split differs from the release ' || cancellation_id as failure
    from cancellations
    where
        revenue_minor + tax_minor + shipping_minor <> amount_minor
        or revenue_minor < 0
        or tax_minor < 0
        or shipping_minor < 0

),

line_rows as (

    select
        'cancellation lines differ from the cancellation '
        || cancellations.cancellation_id as failure
    from cancellations
    left join cancellation_lines
        on cancellations.cancellation_id = cancellation_lines.cancellation_id
    where
        cancellations.is_by_lines
        and (
            cancellation_lines.cancellation_id is null
            or cancellation_lines.revenue_minor <> cancellations.revenue_minor
            or cancellation_lines.tax_minor <> cancellations.tax_minor
        )

)

select * from split_rows
union all
select * from line_rows
