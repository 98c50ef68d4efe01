{#- The half-open partition window [min_month, max_month) of the monthly facts. Applied always
    (not only when incremental), so a windowed full build writes only the window.

    The window is data, not configuration: the Dagster asset writes it to the one-row table
    meta.run_window before it calls dbt and drops it afterwards. Read at run time, it leaves
    every parsed file unchanged, so dbt's partial parsing survives between runs (a window passed
    as --vars forces a full re-parse; an env_var re-parses every model that reads it). The dates
    are inlined as literals so DuckDB can skip row groups outside the window. Without the table
    (a plain `dbt build`) the defaults in dbt_project.yml apply: every month. -#}
{% macro month_window(column='month') -%}
    {%- set window = run_window() -%}
    {{ column }} >= date '{{ window[0] }}'
    and {{ column }} < date '{{ window[1] }}'
{%- endmacro %}

{#- [min_month, max_month] as 'YYYY-MM-DD' strings: meta.run_window if present, else the vars. -#}
{% macro run_window() -%}
    {%- set default = [var('min_month'), var('max_month')] -%}
    {%- if not execute -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=target.database, schema='meta', identifier='run_window') -%}
    {%- if relation is none -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set row = run_query(
        "select cast(min_month as varchar), cast(max_month as varchar) from "
        ~ relation).rows[0] -%}
    {{ return([row[0], row[1]]) }}
{%- endmacro %}
