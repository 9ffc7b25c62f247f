-- A refund by lines gives back exactly the sum of its lines' revenue and tax
-- (domain/refunds.py); fct_returns and fct_order_lines rely on it.
{{ config(meta={'dagster': {'ref': {'name': 'int_refunds_dated'}}}) }}


with

refunds as (

    select * from {{ ref('int_refunds_dated') }}
    where is_by_lines

),

refund_lines as (

    select
        refund_id,
        sum(revenue_minor) as revenue_minor,
        sum(tax_minor) as tax_minor
    from {{ ref('int_refund_lines_unnested') }}
    group by 1

)

select
    refunds.refund_id,
    refunds.revenue_minor,
    refund_lines.revenue_minor as lines_revenue_minor
from refunds
left join refund_lines
    on refunds.refund_id = refund_lines.refund_id
where
    refund_lines.refund_id is null
    or refunds.revenue_minor <> refund_lines.revenue_minor
    or refunds.tax_minor <> refund_lines.tax_minor
