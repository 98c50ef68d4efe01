{#- A text expression compared by bytes (ORDER BY, tie-breaks): DuckDB compares strings by bytes
    already; PostgreSQL by the database's collation (en_US puts 'unbekannt' before 'WE-001',
    bytes the other way round), so an ordering that decides who gets a cent would differ. -#}
{% macro binary_text(expression) -%}
    {{ return(adapter.dispatch('binary_text')(expression)) }}
{%- endmacro %}

{% macro default__binary_text(expression) -%}
    ({{ expression }} collate "C")
{%- endmacro %}

{% macro duckdb__binary_text(expression) -%}
    {{ expression }}
{%- endmacro %}
