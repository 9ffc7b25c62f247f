{#- The store-local day of a UTC instant (DESIGN.md, "Words": every day in
    analytics is a day in the store's IANA timezone). "at time zone" on a
    timestamptz gives the local wall time in DuckDB and Postgres alike. -#}
{% macro store_local_date(column) -%}
    cast(({{ column }} at time zone '{{ var("store_timezone") }}') as date)
{%- endmacro %}
