{#- Number of rows for which a boolean expression is true (NULL counts as false, and a group
    whose expression is NULL in every row counts 0). One standard implementation for every
    engine: DuckDB's own count_if returns NULL for such a group, PostgreSQL's count gives 0. -#}
{% macro count_if(condition) -%}
    count(case when {{ condition }} then 1 end)
{%- endmacro %}
