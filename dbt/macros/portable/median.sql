{#- The median (interpolated between the two middle values of an even count), as DOUBLE. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}
