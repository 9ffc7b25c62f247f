-- Metric identities (BEY-3), DECISIONLOG.md §5: net = gross − discounts −
-- returns on every fact row and every day; and the daily mart adds up to its
-- facts: Σ daily gross, discounts, tax and units = Σ fct_order_lines; Σ daily
-- returns = Σ fct_returns; Σ daily net = Σ fct_order_lines.net − the returns
-- no line carries (amount-only refunds). Every returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'mart_daily_sales'}}}) }}


with

daily as (

    select * from {{ ref('mart_daily_sales') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

daily_rows as (

    select 'mart_daily_sales row ' || cast(sale_date as varchar) as failure
    from daily
    where net_minor <> gross_minor - discount_minor - returns_minor

),

line_rows as (

    select 'fct_order_lines row ' || order_line_id as failure
    from order_lines
    where net_minor <> gross_minor - discount_minor - returns_minor

),

daily_totals as (

    select
        coalesce(sum(gross_minor), 0) as gross_minor,
        coalesce(sum(discount_minor), 0) as discount_minor,
        coalesce(sum(returns_minor), 0) as returns_minor,
        coalesce(sum(net_minor), 0) as net_minor,
        coalesce(sum(tax_minor), 0) as tax_minor,
        coalesce(sum(units), 0) as units
    from daily

),

line_totals as (

    select
        coalesce(sum(gross_minor), 0) as gross_minor,
        coalesce(sum(discount_minor), 0) as discount_minor,
        coalesce(sum(net_minor), 0) as net_minor,
        coalesce(sum(tax_minor), 0) as tax_minor,
        coalesce(sum(quantity), 0) as units
    from order_lines

),

return_totals as (

    select
        coalesce(sum(returns_minor), 0) as returns_minor,
        coalesce(sum(case when order_line_id is null then returns_minor else 0 end), 0)
            as unattributed_returns_minor
    from returns

),

total_rows as (

    select 'totals differ' as failure
    from daily_totals
    cross join line_totals
    cross join return_totals
    where
        daily_totals.gross_minor <> line_totals.gross_minor
        or daily_totals.discount_minor <> line_totals.discount_minor
        or daily_totals.tax_minor <> line_totals.tax_minor
        or daily_totals.units <> line_totals.units
        or daily_totals.returns_minor <> return_totals.returns_minor
        or daily_totals.net_minor
        <> line_totals.net_minor - return_totals.unattributed_returns_minor

)

select * from daily_rows
union all
select * from line_rows
union all
select * from total_rows
