{#- The month of the year (1-12) of a date as an integer. -#}
{% macro month_of(day) -%}
    {{ return(adapter.dispatch('month_of')(day)) }}
{%- endmacro %}

{% macro default__month_of(day) -%}
    cast(extract(month from {{ day }}) as integer)
{%- endmacro %}

{% macro duckdb__month_of(day) -%}
    month({{ day }})
{%- endmacro %}
