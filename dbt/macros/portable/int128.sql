{#- The integer type of exact cent arithmetic (products of cents and 1e-9 weights overflow BIGINT):
    DuckDB's HUGEINT, elsewhere NUMERIC(38, 0). -#}
{% macro int128() -%}
    {{ return(adapter.dispatch('int128')()) }}
{%- endmacro %}

{% macro default__int128() -%}
    numeric(38, 0)
{%- endmacro %}

{% macro duckdb__int128() -%}
    hugeint
{%- endmacro %}
