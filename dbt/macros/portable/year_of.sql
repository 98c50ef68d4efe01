{#- The calendar year of a date as an integer (usable in make_date on every engine). -#}
{% macro year_of(day) -%}
    {{ return(adapter.dispatch('year_of')(day)) }}
{%- endmacro %}

{% macro default__year_of(day) -%}
    cast(extract(year from {{ day }}) as integer)
{%- endmacro %}

{% macro duckdb__year_of(day) -%}
    year({{ day }})
{%- endmacro %}
