-- What each order line has given back through refunds by lines, over its life.

with

refund_lines as (

    select * from {{ ref('int_refund_lines_unnested') }}

),

aggregated as (

    select
        order_line_id,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as quantity_returned,
        cast(sum(revenue_minor) as {{ dbt.type_bigint() }}) as returns_minor,
        cast(sum(tax_minor) as {{ dbt.type_bigint() }}) as returned_tax_minor

    from refund_lines
    group by 1

)

select * from aggregated
