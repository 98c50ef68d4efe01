{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- The indicators per municipality beside the district (Kennzahlenvergleich), where meaningful:
-- the per-social-space indicators that add up over social spaces, i.e. counts (unit Anzahl,
-- e.g. K01: the sum of the social spaces' counts) and rates (unit %, e.g. K06: 100 × the sum
-- of the numerators ÷ the sum of the denominators). A median (K08) or a per-inhabitant figure
-- does not add up and is left out.
--   district_value  = the indicator's value for the whole deployment (GESAMT, incl. unbekannt)
--   base            = the count itself (Anzahl) or the rate's denominator (%)
--   is_small_area   = base below the setting small_area_threshold: the cell must not be shown
--                     to another municipality (reports/kreis.py) or in public
--   q1/median/q3    = quartiles of the values of the ranked municipalities (continuous)
--   value_rank      = rank among the ranked municipalities, 1 = best (direction lower: lowest
--                     first; higher or none: highest first); ties share a rank; NULL if unranked
-- Ranked = with a value and not a small area. Quartiles and ranks over small cells would
-- narrow them down (a published median of three values with one hidden bounds the hidden one;
-- ranks order it between visible ones, domain.md section 5), so small areas are left out of
-- both: the comparison statistics are those of the publishable values.
-- Incremental per month (the window of the run).
-- Months: those with data for the indicator (its GESAMT row exists); a municipality without a
-- row then counts 0 (like fct_indicator_values).
with indicators as (
    select indicator_id, unit, direction
    from {{ ref('indicators') }}
    where per_social_space and unit in ('Anzahl', '%')
),

indicator_values as (
    select * from {{ ref('int_indicator_values_unioned') }}
),

district as (
    select indicator_values.month, indicator_values.indicator_id, indicator_values.value
    from indicator_values
    inner join indicators on indicator_values.indicator_id = indicators.indicator_id
    where indicator_values.social_space_id = 'GESAMT'
        and {{ month_window('indicator_values.month') }}
),

per_municipality as (
    select
        indicator_values.month,
        indicator_values.indicator_id,
        social_spaces.ags,
        sum(indicator_values.numerator) as numerator,
        sum(indicator_values.denominator) as denominator
    from indicator_values
    inner join {{ ref('social_spaces') }} as social_spaces
        on indicator_values.social_space_id = social_spaces.social_space_id
    where {{ month_window('indicator_values.month') }}
    group by indicator_values.month, indicator_values.indicator_id, social_spaces.ags
),

valued as (
    select
        district.month,
        district.indicator_id,
        indicators.unit,
        indicators.direction,
        municipalities.ags,
        coalesce(per_municipality.numerator, 0) as numerator,
        coalesce(per_municipality.denominator, 0) as denominator,
        case when indicators.unit = 'Anzahl' then coalesce(per_municipality.numerator, 0)
            else {{ safe_ratio('per_municipality.numerator', 'per_municipality.denominator', 100) }}
        end as value,
        case when indicators.unit = 'Anzahl' then coalesce(per_municipality.numerator, 0)
            else coalesce(per_municipality.denominator, 0) end as base,
        district.value as district_value
    from district
    inner join indicators on district.indicator_id = indicators.indicator_id
    cross join {{ ref('municipalities') }} as municipalities
    left join per_municipality
        on per_municipality.month = district.month
        and per_municipality.indicator_id = district.indicator_id
        and per_municipality.ags = municipalities.ags
),

flagged as (
    select
        *,
        base < {{ setting('small_area_threshold') }} as is_small_area,
        value is not null and base >= {{ setting('small_area_threshold') }} as is_ranked
    from valued
),

quartiles as (
    select
        month,
        indicator_id,
        percentile_cont(0.25) within group (order by value) as q1,
        percentile_cont(0.5) within group (order by value) as median,
        percentile_cont(0.75) within group (order by value) as q3,
        count(*) as municipalities_ranked
    from flagged
    where is_ranked
    group by month, indicator_id
),

final as (
    select
        flagged.month,
        cast(flagged.indicator_id as varchar) as indicator_id,
        cast(flagged.ags as varchar) as ags,
        cast(flagged.numerator as decimal(18, 2)) as numerator,
        cast(flagged.denominator as decimal(18, 2)) as denominator,
        cast(flagged.value as double precision) as value,
        cast(flagged.district_value as double precision) as district_value,
        cast(quartiles.q1 as double precision) as q1,
        cast(quartiles.median as double precision) as median,
        cast(quartiles.q3 as double precision) as q3,
        cast(case when flagged.is_ranked then
            case when flagged.direction = 'lower'
                then rank() over (partition by flagged.month, flagged.indicator_id,
                    flagged.is_ranked order by flagged.value)
                else rank() over (partition by flagged.month, flagged.indicator_id,
                    flagged.is_ranked order by flagged.value desc)
            end end as integer) as value_rank,
        cast(coalesce(quartiles.municipalities_ranked, 0) as integer) as municipalities_ranked,
        cast(flagged.base as decimal(18, 2)) as base,
        cast(flagged.is_small_area as boolean) as is_small_area
    from flagged
    left join quartiles
        on quartiles.month = flagged.month and quartiles.indicator_id = flagged.indicator_id
)

select * from final
