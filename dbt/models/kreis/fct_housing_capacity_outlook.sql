{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Capacity outlook: from each month (the report month) the projected occupied places per
-- municipality and kind (rows as in fct_housing_capacity_monthly, GESAMT = district / both
-- kinds) for horizon h = 0 .. planning_horizon_months, and the first month in which the
-- projected occupancy exceeds the places (capacity_exhausted_from; NULL = not within the
-- horizon; the report month itself if it is already over-occupied).
--   places             = the places of the report month, held constant (openings and closings
--                        after it are not yet in the seed)
--   projected_occupied = h = 0: occupied; h > 0 by `method`:
--     projection: occupied + (projected persons − persons of the report month) with that
--                 Unterbringung in the municipality's social spaces, scenario basis of the
--                 planning projection (marts.fct_projection_monthly), used when that
--                 projection starts from the report month (its last_actual_month);
--     trend:      otherwise: occupied + h × the mean monthly net change of occupied over the
--                 last k = min(planning_history_months, months since the first data month)
--                 months (0 in the first data month); never below 0.
-- The planning models are not part of the monthly build: the projection is read when its table
-- exists (no dbt ref, so the monthly run does not depend on it); the planning build
-- (dagster_project/dbt_manifest.run_planning_dbt) rebuilds this model after the projection, so
-- a June/December run and `kim plan` replace the trend of the newest month by the projection.
-- Incremental per month (the window of the run).
{%- set projection = adapter.get_relation(
    database=target.database, schema='marts', identifier='fct_projection_monthly')
    if execute else none %}
with recursive horizons (h) as (
    select 0
    union all
    select h + 1 from horizons where h < {{ setting('planning_horizon_months') }}
),

capacity as (
    select month, ags, kind, places, occupied from {{ ref('fct_housing_capacity_monthly') }}
),

report_months as (
    select month from {{ ref('int_months') }}
    where {{ month_window() }}
),

lookback as (
    select
        month,
        least(
            cast({{ setting('planning_history_months') }} as integer),
            {{ months_between('(select min(month) from ' ~ ref('int_months') ~ ')', 'month') }}
        ) as months_back
    from report_months
),

trend as (
    select
        current_month.month,
        current_month.ags,
        current_month.kind,
        case when lookback.months_back = 0 then 0.0
            else cast(current_month.occupied - past.occupied as double precision)
                / lookback.months_back
        end as change_per_month
    from capacity as current_month
    inner join lookback on lookback.month = current_month.month
    left join capacity as past
        on past.month = {{ add_months('current_month.month', '-lookback.months_back') }}
        and past.ags = current_month.ags
        and past.kind = current_month.kind
),

social_spaces as (
    select social_space_id, ags from {{ ref('social_spaces') }}
),

kinds as (
    select distinct kind from capacity where kind != 'GESAMT'
),

{% if projection is not none -%}
projection as (
    select
        last_actual_month as origin,
        month,
        social_space_id,
        housing,
        persons
    from {{ projection }}
    where scenario = 'basis'
),

projected_persons as (
    select
        projection.origin as month,
        projection.month as forecast_month,
        social_spaces.ags,
        projection.housing as kind,
        projection.persons
    from projection
    inner join social_spaces on social_spaces.social_space_id = projection.social_space_id
    where projection.housing in (select kind from kinds)
        and projection.origin in (select month from report_months)
),
{%- else -%}
projected_persons as (
    select
        cast(null as date) as month,
        cast(null as date) as forecast_month,
        cast(null as varchar) as ags,
        cast(null as varchar) as kind,
        cast(null as decimal(12, 2)) as persons
    where false
),
{%- endif %}

start_persons as (
    select persons.month, social_spaces.ags, persons.housing as kind, count(*) as persons
    from {{ ref('int_person_months') }} as persons
    inner join social_spaces on social_spaces.social_space_id = persons.social_space_id
    where persons.month in (select distinct month from projected_persons)
        and persons.housing in (select kind from kinds)
    group by persons.month, social_spaces.ags, persons.housing
),

-- Projected minus start persons, with the district and both-kinds totals.
projected_change as (
    select
        month,
        forecast_month,
        case when grouping(ags) = 1 then 'GESAMT' else ags end as ags,
        case when grouping(kind) = 1 then 'GESAMT' else kind end as kind,
        sum(change) as change
    from (
        select month, forecast_month, ags, kind, persons as change from projected_persons
        union all
        select
            start_persons.month,
            forecasts.forecast_month,
            start_persons.ags,
            start_persons.kind,
            -start_persons.persons
        from start_persons
        inner join (select distinct month, forecast_month from projected_persons) as forecasts
            on forecasts.month = start_persons.month
    ) as changes
    group by grouping sets (
        (month, forecast_month, ags, kind), (month, forecast_month, ags),
        (month, forecast_month, kind), (month, forecast_month)
    )
),

methods as (
    select
        report_months.month,
        case when report_months.month in (select month from projected_persons)
            then 'projection' else 'trend' end as method
    from report_months
),

outlook as (
    select
        capacity.month,
        capacity.ags,
        capacity.kind,
        horizons.h,
        {{ add_months('capacity.month', 'horizons.h') }} as forecast_month,
        methods.method,
        capacity.places,
        case
            when horizons.h = 0 then capacity.occupied
            when methods.method = 'projection'
                then capacity.occupied + coalesce(projected_change.change, 0)
            else capacity.occupied + horizons.h * trend.change_per_month
        end as projected_occupied
    from capacity
    inner join methods on methods.month = capacity.month
    inner join trend
        on trend.month = capacity.month and trend.ags = capacity.ags and trend.kind = capacity.kind
    cross join horizons
    left join projected_change
        on projected_change.month = capacity.month
        and projected_change.forecast_month = {{ add_months('capacity.month', 'horizons.h') }}
        and projected_change.ags = capacity.ags
        and projected_change.kind = capacity.kind
),

rounded as (
    select
        month,
        ags,
        kind,
        h,
        forecast_month,
        method,
        places,
        cast(round(cast(greatest(projected_occupied, 0) as decimal(18, 4)), 2) as decimal(18, 2))
            as projected_occupied
    from outlook
),

final as (
    select
        month,
        cast(ags as varchar) as ags,
        cast(kind as varchar) as kind,
        cast(h as integer) as horizon,
        forecast_month,
        cast(method as varchar) as method,
        cast(places as bigint) as places,
        projected_occupied,
        min(case when projected_occupied > places then forecast_month end)
            over (partition by month, ags, kind) as capacity_exhausted_from
    from rounded
)

select * from final
