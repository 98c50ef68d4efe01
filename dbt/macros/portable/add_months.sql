{#- The date `months` calendar months after `day` (negative: before), as a DATE. One form for
    DuckDB and PostgreSQL: both multiply an interval by an integer. -#}
{% macro add_months(day, months) -%}
    cast({{ day }} + ({{ months }}) * interval '1 month' as date)
{%- endmacro %}
