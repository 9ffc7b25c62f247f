{#- Rows of a refund's lines_json, one per refunded order line, with the
    refund's own columns (refund_id, order_id, refunded_at, refunded_date).
    JSON functions differ per database, so this dispatches; a postgres__
    version (jsonb_to_recordset) comes with the Postgres build (BEY-4). -#}
{% macro refund_lines_from_json(relation) -%}
    {{ return(adapter.dispatch('refund_lines_from_json')(relation)) }}
{%- endmacro %}

{% macro duckdb__refund_lines_from_json(relation) -%}
    select
        refund_id,
        order_id,
        refunded_at,
        refunded_date,
        line.order_line_id,
        line.quantity,
        line.revenue_minor,
        line.tax_minor
    from (
        select
            refund_id,
            order_id,
            refunded_at,
            refunded_date,
            unnest(from_json(
                json_extract(lines_json, '$.lines'),
                '[{"order_line_id": "VARCHAR", "quantity": "BIGINT", "revenue_minor": "BIGINT", "tax_minor": "BIGINT"}]'
            )) as line
        from {{ relation }}
    ) as refund_lines
{%- endmacro %}
