{#- Fails on every combination of the columns that occurs more than once
    (no dbt packages: the project builds without network). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows

from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
