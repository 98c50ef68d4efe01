{#- Integer division of non-negative integers (the quotient truncated): DuckDB's `//`, the
    standard's div(). -#}
{% macro int_div(numerator, denominator) -%}
    {{ return(adapter.dispatch('int_div')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__int_div(numerator, denominator) -%}
    div({{ numerator }}, {{ denominator }})
{%- endmacro %}

{% macro duckdb__int_div(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}
