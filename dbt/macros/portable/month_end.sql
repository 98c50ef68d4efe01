{#- The last day of the month of a date, as a DATE. -#}
{% macro month_end(day) -%}
    {{ return(adapter.dispatch('month_end')(day)) }}
{%- endmacro %}

{% macro default__month_end(day) -%}
    cast(date_trunc('month', {{ day }}) + interval '1 month' - interval '1 day' as date)
{%- endmacro %}

{% macro duckdb__month_end(day) -%}
    last_day({{ day }})
{%- endmacro %}
