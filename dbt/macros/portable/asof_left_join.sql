{#- `asof_left_join(right, left_key, right_key, left_at, right_at)`: joins to every left row
    the row of the CTE/relation `right` with `right.right_key = left_key` and the latest
    `right.right_at <= left_at` (NULLs when there is none); `right_key` and `right_at` are column
    names of `right`. Referenced afterwards by the name `right`. DuckDB: its ASOF join.
    Elsewhere: each right row is valid from its time up to the next time of its key (lead()),
    an equi-join on the key plus a range condition. A LATERAL ... ORDER BY ... LIMIT 1
    subquery was tried first: it re-evaluates `right` (a view) per left row, and did not finish
    in 7 minutes at benchmark scale M. -#}
{% macro asof_left_join(right, left_key, right_key, left_at, right_at) -%}
    {{ return(adapter.dispatch('asof_left_join')(right, left_key, right_key, left_at, right_at)) }}
{%- endmacro %}

{% macro default__asof_left_join(right, left_key, right_key, left_at, right_at) -%}
    left join (
        select
            *,
            lead({{ right_at }}) over (partition by {{ right_key }} order by {{ right_at }})
                as asof_valid_to
        from {{ right }}
    ) as {{ right }}
        on {{ left_key }} = {{ right }}.{{ right_key }}
        and {{ left_at }} >= {{ right }}.{{ right_at }}
        and ({{ right }}.asof_valid_to is null or {{ left_at }} < {{ right }}.asof_valid_to)
{%- endmacro %}

{% macro duckdb__asof_left_join(right, left_key, right_key, left_at, right_at) -%}
    asof left join {{ right }}
        on {{ left_key }} = {{ right }}.{{ right_key }}
        and {{ left_at }} >= {{ right }}.{{ right_at }}
{%- endmacro %}
