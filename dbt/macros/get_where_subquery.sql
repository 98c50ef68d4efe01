{#- Data tests test the run's window, not the whole history: those of the incremental
    (month-partitioned) models on `month`, those of a raw source on the period column its
    `meta.window_column` names (models/staging/_raw__sources.yml, generated from the contract).
    Stated here once for every such test instead of on each (an explicit `where:` of a test is
    kept and combined). Overrides dbt's own macro of this name, which applies only the explicit
    `where:`. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set window_column = window_column_of(relation) -%}
    {%- if window_column -%}
        {%- set window = month_window(window_column) -%}
        {%- set where = window ~ (' and (' ~ where ~ ')' if where else '') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The period column by which the tested relation is windowed; none for a whole-table test. -#}
{% macro window_column_of(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model.attached_node -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {{ return('month' if tested and tested.config.materialized == 'incremental' else none) }}
    {%- endif -%}
    {%- for source in graph.sources.values() -%}
        {%- if source.schema == relation.schema and source.identifier == relation.identifier -%}
            {{ return(source.config.meta.get('window_column') or source.meta.get('window_column')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
