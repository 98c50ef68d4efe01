{#- Schemas are exactly `reference`, `staging`, `intermediate`, `marts` (no target prefix):
    reports and gates read fixed names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
