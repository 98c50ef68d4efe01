{#- Number of rows for which a boolean expression is true (NULL counts as false). -#}
{% macro count_if(condition) -%}
    {{ return(adapter.dispatch('count_if')(condition)) }}
{%- endmacro %}

{% macro default__count_if(condition) -%}
    count(case when {{ condition }} then 1 end)
{%- endmacro %}

{% macro duckdb__count_if(condition) -%}
    count_if({{ condition }})
{%- endmacro %}
