{#- Data tests of the incremental (month-partitioned) models test the run's window, not the
    whole history: dbt's `where` config, stated here once for every such test instead of on each
    (an explicit `where:` of a test is kept and combined). Overrides dbt's own macro of this name,
    which applies only the explicit `where:`. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if execute and model.attached_node -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {%- if tested and tested.config.materialized == 'incremental' -%}
            {%- set window = month_window('month') -%}
            {%- set where = window ~ (' and (' ~ where ~ ')' if where else '') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
