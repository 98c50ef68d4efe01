{#- The n-th (1-based) item of a delimited string; NULL past the last item. -#}
{% macro split_item(text, delimiter, n) -%}
    {{ return(adapter.dispatch('split_item')(text, delimiter, n)) }}
{%- endmacro %}

{% macro default__split_item(text, delimiter, n) -%}
    nullif(split_part({{ text }}, {{ delimiter }}, cast({{ n }} as integer)), '')
{%- endmacro %}

{% macro duckdb__split_item(text, delimiter, n) -%}
    string_split({{ text }}, {{ delimiter }})[{{ n }}]
{%- endmacro %}
