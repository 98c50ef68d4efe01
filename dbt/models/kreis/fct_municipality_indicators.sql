-- The indicators per municipality beside the district (Kennzahlenvergleich), where meaningful:
-- the per-social-space indicators that add up over social spaces, i.e. counts (unit Anzahl,
-- e.g. K01: the sum of the social spaces' counts) and rates (unit %, e.g. K06: 100 × the sum
-- of the numerators ÷ the sum of the denominators). A median (K08) or a per-inhabitant figure
-- does not add up and is left out.
--   district_value  = the indicator's value for the whole deployment (GESAMT, incl. unbekannt)
--   q1/median/q3    = quartiles of the municipalities' values (continuous, over those with a value)
--   value_rank      = rank among the municipalities with a value, 1 = best (direction lower:
--                     lowest first; higher or none: highest first); ties share a rank
--   base            = the count itself (Anzahl) or the rate's denominator (%)
--   is_small_area   = base below the setting small_area_threshold: the cell must not be shown
--                     to another municipality (reports/kreis.py)
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
    group by all
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

final as (
    select
        month,
        indicator_id,
        cast(ags as varchar) as ags,
        cast(numerator as decimal(18, 2)) as numerator,
        cast(denominator as decimal(18, 2)) as denominator,
        cast(value as double) as value,
        cast(district_value as double) as district_value,
        cast(quantile_cont(value, 0.25) over w as double) as q1,
        cast(quantile_cont(value, 0.5) over w as double) as median,
        cast(quantile_cont(value, 0.75) over w as double) as q3,
        cast(case when value is not null then
            case when direction = 'lower'
                then rank() over (partition by month, indicator_id, value is null order by value)
                else rank() over (
                    partition by month, indicator_id, value is null order by value desc)
            end end as integer) as value_rank,
        cast(count(value) over w as integer) as municipalities_ranked,
        cast(base as decimal(18, 2)) as base,
        base < {{ setting('small_area_threshold') }} as is_small_area
    from valued
    window w as (partition by month, indicator_id)
)

select * from final
