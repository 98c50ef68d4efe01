{#- An interval of `n` months (n an integer expression): DuckDB's to_months(n), the standard's
    make_interval. Add it to a date and cast back: cast(d + months_interval('n') as date). -#}
{% macro months_interval(n) -%}
    {{ return(adapter.dispatch('months_interval')(n)) }}
{%- endmacro %}

{% macro default__months_interval(n) -%}
    make_interval(months => {{ n }})
{%- endmacro %}

{% macro duckdb__months_interval(n) -%}
    to_months({{ n }})
{%- endmacro %}
