{#- Money: the store keeps BIGINT minor units; analytics adds DECIMAL(18, 2)
    major units beside them. Multiplying by a decimal literal keeps the value
    exact (division would give a double in DuckDB). -#}
{% macro minor_to_amount(column) -%}
    cast(cast({{ column }} as decimal(18, 2)) * {{ minor_unit() }} as decimal(18, 2))
{%- endmacro %}

{% macro minor_unit() -%}
    {%- set exponent = var('currency_exponent') | int -%}
    {{ '1' if exponent == 0 else '0.' ~ ('0' * (exponent - 1)) ~ '1' }}
{%- endmacro %}
