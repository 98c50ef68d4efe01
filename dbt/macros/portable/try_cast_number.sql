{#- A text as a number of `type` (an integer type or double precision), NULL when it is not one
    (an empty seed cell): DuckDB's try_cast. Elsewhere a pattern decides first (PostgreSQL's cast
    fails on bad text); the inner cast to varchar keeps PostgreSQL from converting a literal
    argument while parsing, before the pattern is looked at. -#}
{% macro try_cast_number(text, type) -%}
    {{ return(adapter.dispatch('try_cast_number')(text, type)) }}
{%- endmacro %}

{% macro default__try_cast_number(text, type) -%}
    {%- set pattern = '^[+-]?[0-9]+$' if 'int' in type
        else '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$' -%}
    case when {{ text }} ~ '{{ pattern }}' then cast(cast({{ text }} as varchar) as {{ type }}) end
{%- endmacro %}

{% macro duckdb__try_cast_number(text, type) -%}
    try_cast({{ text }} as {{ type }})
{%- endmacro %}
