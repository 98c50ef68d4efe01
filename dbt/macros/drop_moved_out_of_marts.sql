{#- on-run-start (dbt_project.yml). Intermediate models that an earlier version built in schema
    marts (the planning intermediates, until 2026-11; one holds a row per pseudonymised person and
    month) would stay there for the readers of marts (docs/postgres.md, "Roles"): drop them.
    Reads dbt's relation cache; drops nothing in a warehouse built by this version. -#}
{% macro drop_moved_out_of_marts() %}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and node.schema != 'marts'
                and node.name.startswith('int_') -%}
            {%- set stale = adapter.get_relation(
                database=target.database, schema='marts', identifier=node.name) -%}
            {%- if stale is not none -%}
                {%- do log('Veraltete Tabelle entfernt: ' ~ stale, info=true) -%}
                {%- do adapter.drop_relation(stale) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
