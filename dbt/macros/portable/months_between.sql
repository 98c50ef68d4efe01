{#- Whole calendar months from the month of `start` to the month of `end` (same month = 0), as an
    integer. dbt.datediff on PostgreSQL returns DOUBLE here, hence a macro of its own. -#}
{% macro months_between(start, end) -%}
    {{ return(adapter.dispatch('months_between')(start, end)) }}
{%- endmacro %}

{% macro default__months_between(start, end) -%}
    cast((extract(year from {{ end }}) - extract(year from {{ start }})) * 12
        + extract(month from {{ end }}) - extract(month from {{ start }}) as bigint)
{%- endmacro %}

{% macro duckdb__months_between(start, end) -%}
    datediff('month', {{ start }}, {{ end }})
{%- endmacro %}
