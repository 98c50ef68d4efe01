{#- The CTE `projection(origin, scenario, horizon, h, state_key, persons)` of the stock-and-flow
    projection (int_planning_projection): from `start` (origin, scenario, state_key, persons) at
    h = 0, month by month stock(h + 1, s') = Σ_s stock(h, s) × p(s → s') over `transitions`
    (origin, scenario, from_key, to_key, probability), while h < the `horizons` row's horizon.
    Place it inside `with recursive`.
    DuckDB: a recursive CTE whose step joins and sums. PostgreSQL forbids aggregates in the
    recursive term, so there each step carries the whole stock vector of an origin and scenario
    as two arrays (keys, persons), and the join and sum run in a LATERAL subquery over them. -#}
{% macro markov_projection(start, horizons, transitions) -%}
    {{ return(adapter.dispatch('markov_projection')(start, horizons, transitions)) }}
{%- endmacro %}

{% macro default__markov_projection(start, horizons, transitions) -%}
projection_vectors(origin, scenario, horizon, h, state_keys, persons) as (
    select
        {{ start }}.origin,
        {{ start }}.scenario,
        {{ horizons }}.horizon,
        0,
        cast(array_agg({{ start }}.state_key) as varchar[]),
        cast(array_agg({{ start }}.persons) as double precision[])
    from {{ start }}
    inner join {{ horizons }}
        on {{ horizons }}.origin = {{ start }}.origin
        and {{ horizons }}.scenario = {{ start }}.scenario
    group by {{ start }}.origin, {{ start }}.scenario, {{ horizons }}.horizon
    union all
    select vectors.origin, vectors.scenario, vectors.horizon, vectors.h + 1, step.state_keys,
        step.persons
    from projection_vectors as vectors
    cross join lateral (
        select
            cast(array_agg(moved.to_key) as varchar[]) as state_keys,
            cast(array_agg(moved.persons) as double precision[]) as persons
        from (
            select {{ transitions }}.to_key, sum(stock.persons * {{ transitions }}.probability)
                as persons
            from unnest(vectors.state_keys, vectors.persons) as stock (state_key, persons)
            inner join {{ transitions }}
                on {{ transitions }}.origin = vectors.origin
                and {{ transitions }}.scenario = vectors.scenario
                and {{ transitions }}.from_key = stock.state_key
            group by {{ transitions }}.to_key
        ) as moved
    ) as step
    where vectors.h < vectors.horizon
),

projection as (
    select vectors.origin, vectors.scenario, vectors.horizon, vectors.h, stock.state_key,
        stock.persons
    from projection_vectors as vectors
    cross join lateral unnest(vectors.state_keys, vectors.persons) as stock (state_key, persons)
)
{%- endmacro %}

{% macro duckdb__markov_projection(start, horizons, transitions) -%}
projection(origin, scenario, horizon, h, state_key, persons) as (
    select {{ start }}.origin, {{ start }}.scenario, {{ horizons }}.horizon, 0,
        {{ start }}.state_key, {{ start }}.persons
    from {{ start }}
    inner join {{ horizons }}
        on {{ horizons }}.origin = {{ start }}.origin
        and {{ horizons }}.scenario = {{ start }}.scenario
    union all
    select
        projection.origin,
        projection.scenario,
        projection.horizon,
        projection.h + 1,
        {{ transitions }}.to_key,
        sum(projection.persons * {{ transitions }}.probability)
    from projection
    inner join {{ transitions }}
        on {{ transitions }}.origin = projection.origin
        and {{ transitions }}.scenario = projection.scenario
        and {{ transitions }}.from_key = projection.state_key
    where projection.h < projection.horizon
    group by all
)
{%- endmacro %}
