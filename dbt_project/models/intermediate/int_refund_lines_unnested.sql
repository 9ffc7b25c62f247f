-- One row per order line of a refund by lines. lines_json is the refund's own
-- record of what each line gave back ({"lines": [{order_line_id, quantity,
-- revenue_minor, tax_minor}], "shipping_minor": n}); parsing it is
-- adapter-specific (macros/json.sql).

with

refunds as (

    select * from {{ ref('int_refunds_dated') }}
    where is_by_lines

),

unnested as (

    {{ refund_lines_from_json('refunds') }}

),

typed as (

    select
        ---------- ids
        refund_id,
        order_id,
        order_line_id,
        ---------- numerics
        {{ dbt.safe_cast('quantity', 'bigint') }} as quantity,
        {{ dbt.safe_cast('revenue_minor', 'bigint') }} as revenue_minor,
        {{ dbt.safe_cast('tax_minor', 'bigint') }} as tax_minor,
        ---------- timestamps
        refunded_at,
        refunded_date

    from unnested

)

select * from typed
