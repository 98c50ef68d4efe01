{#- `asof_left_join(right, match, left_at, right_at)`: joins to every left row the one row of
    the CTE/relation `right` that satisfies `match` with the latest `right_at` <= `left_at`
    (NULLs when there is none). Referenced afterwards by the name `right`. DuckDB's ASOF join;
    elsewhere a LATERAL subquery (PostgreSQL: an index on the match and time columns of `right`
    keeps it fast). -#}
{% macro asof_left_join(right, match, left_at, right_at) -%}
    {{ return(adapter.dispatch('asof_left_join')(right, match, left_at, right_at)) }}
{%- endmacro %}

{% macro default__asof_left_join(right, match, left_at, right_at) -%}
    left join lateral (
        select * from {{ right }}
        where {{ match }} and {{ left_at }} >= {{ right_at }}
        order by {{ right_at }} desc
        limit 1
    ) as {{ right }} on true
{%- endmacro %}

{% macro duckdb__asof_left_join(right, match, left_at, right_at) -%}
    asof left join {{ right }}
        on {{ match }}
        and {{ left_at }} >= {{ right_at }}
{%- endmacro %}
