{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- One row per month x indicator x social space (per_social_space indicators) plus GESAMT for
-- every indicator. A month counts as having data for an indicator when its model delivered the
-- GESAMT row; a social space without a row in such a month has nothing to count (count 0,
-- denominator 0). value_status: no_data (no source data for the month), no_denominator (0/NULL),
-- below_min_denominator (0 < denominator < catalogue minimum; value still shown internally), ok.
-- Targets: the social space's own target, else (for rates, not counts) the city-wide one.
-- A yearly target of a year-to-date sum (catalogue target_pro_rata, K13) is compared pro rata:
-- target × months with data of the indicator in the year up to the month ÷ 12.
-- display_value: the value as the reports print it (macro `displayed`); the traffic light and
-- attainment_ratio are decided on it and on the target as printed, so a value shown as the
-- target is green. Tolerance: traffic_light_tolerance of the seed settings.
-- attainment_ratio = value ÷ target (higher) or target ÷ value (lower); NULL for band/none.
with months as (
    select month from {{ ref('int_months') }}
    where {{ month_window() }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

social_spaces as (
    select social_space_id from {{ ref('int_social_spaces') }}
),

indicator_values as (
    select * from {{ ref('int_indicator_values_unioned') }}
    where {{ month_window() }}
),

targets as (
    select
        indicator_id,
        year,
        coalesce(nullif(trim(social_space_id), ''), 'GESAMT') as social_space_id,
        target_value,
        band_low,
        band_high
    from {{ ref('targets') }}
),

spine as (
    select months.month, indicators.indicator_id, 'GESAMT' as social_space_id
    from months
    cross join indicators
    union all
    select months.month, indicators.indicator_id, social_spaces.social_space_id
    from months
    cross join indicators
    cross join social_spaces
    where indicators.per_social_space
),

available as (
    select month, indicator_id
    from indicator_values
    where social_space_id = 'GESAMT'
),

-- All months of the indicator so far, not only the window: the count must not depend on it.
data_months as (
    select month, indicator_id
    from {{ ref('int_indicator_values_unioned') }}
    where social_space_id = 'GESAMT'
),

months_to_date as (
    select months.month, data_months.indicator_id, count(*) as months_with_data
    from months
    inner join data_months
        on {{ year_of('data_months.month') }} = {{ year_of('months.month') }}
        and data_months.month <= months.month
    group by months.month, data_months.indicator_id
),

filled as (
    select
        spine.month,
        spine.indicator_id,
        spine.social_space_id,
        indicators.unit,
        indicators.decimals,
        indicators.direction,
        indicators.min_denominator,
        coalesce(indicators.target_pro_rata, false) as target_pro_rata,
        available.month is not null as has_data,
        case
            when indicator_values.month is not null then indicator_values.numerator
            when available.month is not null then 0
        end as numerator,
        case
            when indicator_values.month is not null then indicator_values.denominator
            when available.month is not null and indicators.unit = 'Anzahl' then 1
            when available.month is not null then 0
        end as denominator,
        case
            when indicator_values.month is not null then indicator_values.value
            when available.month is not null and indicators.unit = 'Anzahl' then 0
        end as value
    from spine
    inner join indicators on spine.indicator_id = indicators.indicator_id
    left join available
        on spine.month = available.month
        and spine.indicator_id = available.indicator_id
    left join indicator_values
        on spine.month = indicator_values.month
        and spine.indicator_id = indicator_values.indicator_id
        and spine.social_space_id = indicator_values.social_space_id
),

with_targets as (
    select
        filled.*,
        {{ displayed('value', 'filled.decimals') }} as display_value,
        {{ displayed(
            'coalesce(own_target.target_value, city_target.target_value)'
            ~ ' * case when filled.target_pro_rata then'
            ~ ' cast(months_to_date.months_with_data as double precision) / 12'
            ~ ' else 1 end', 'filled.decimals') }} as target_value,
        coalesce(own_target.band_low, city_target.band_low) as target_band_low,
        coalesce(own_target.band_high, city_target.band_high) as target_band_high
    from filled
    left join targets as own_target
        on filled.indicator_id = own_target.indicator_id
        and {{ year_of('filled.month') }} = own_target.year
        and filled.social_space_id = own_target.social_space_id
    left join targets as city_target
        on filled.indicator_id = city_target.indicator_id
        and {{ year_of('filled.month') }} = city_target.year
        and city_target.social_space_id = 'GESAMT'
        and filled.unit <> 'Anzahl'
    left join months_to_date
        on filled.month = months_to_date.month
        and filled.indicator_id = months_to_date.indicator_id
),

final as (
    select
        month,
        indicator_id,
        social_space_id,
        cast(numerator as decimal(18, 2)) as numerator,
        cast(denominator as decimal(18, 2)) as denominator,
        cast(case when denominator is null or denominator = 0 then null else value end as double precision)
            as value,
        cast(case when denominator is null or denominator = 0 then null else display_value end
            as double precision) as display_value,
        cast(target_value as double precision) as target_value,
        cast(target_band_low as double precision) as target_band_low,
        cast(target_band_high as double precision) as target_band_high,
        cast(case
            when denominator is null or denominator = 0 or value is null then null
            when direction = 'higher' then {{ safe_ratio('display_value', 'target_value') }}
            when direction = 'lower' then {{ safe_ratio('target_value', 'display_value') }}
        end as double precision) as attainment_ratio,
        -- varchar, not PostgreSQL's text of a literal CASE: an incremental run would see a type change.
        cast(case when denominator is null or denominator = 0 then null
            else {{ indicator_traffic_light('direction', 'display_value', 'target_value',
                'target_band_low', 'target_band_high', setting('traffic_light_tolerance')) }}
            end as varchar) as traffic_light,
        cast(case
            when not has_data then 'no_data'
            when denominator is null or denominator = 0 then 'no_denominator'
            when denominator < min_denominator then 'below_min_denominator'
            else 'ok'
        end as varchar) as value_status
    from with_targets
)

select * from final
