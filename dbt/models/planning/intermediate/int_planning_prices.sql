-- The price of every parameter of the seed `prices` in every year from the first year with data
-- (or a price) to the last projected year: the value of the latest year <= the year (before
-- the first entry, the first entry), as the generator's Params.get does.
-- (Two values of one year: the larger, on every engine.)
-- ASYLBLG_RATES is the AsylbLG rate index: the rates of the year weighted by the Bedarfsstufe
-- mix of the AsylbLG person-months of the history:
--   Leistungsform ANALOG -> §2 rates (AL2), otherwise §3a rates (GL3);
--   age 0-5 -> BS 6; 6-17 -> half BS 4, half BS 5 (the age band does not split 6-13 / 14-17);
--   adults -> BS 1 when the only adult of the household (Fall) in the month, else BS 2
--   (adults under 25 in their parents' household, BS 3, are not told apart; they count as BS 2).
with prices as (
    select parameter, year, cast(value as double precision) as value from {{ ref('prices') }}
),

person_months as (
    select * from {{ ref('int_planning_person_months') }}
),

bounds as (
    select
        least((select min(year) from prices),
            (select min({{ year_of('month') }}) from person_months))
            as first_year,
        (select max({{ year_of('month') }}) from person_months)
            + cast(ceil({{ setting('planning_horizon_months') }} / 12) as integer) + 1
            as last_year
),

years as (
    select series.year
    from bounds
    cross join generate_series(bounds.first_year, bounds.last_year) as series (year)
),

by_year as (
    select
        parameters.parameter,
        years.year,
        coalesce(
            (select prices.value from prices
                where prices.parameter = parameters.parameter and prices.year <= years.year
                order by prices.year desc, prices.value desc limit 1),
            (select prices.value from prices
                where prices.parameter = parameters.parameter
                order by prices.year, prices.value desc limit 1)) as value
    from (select distinct parameter from prices) as parameters
    cross join years
),

asylblg as (
    select
        *,
        case when benefit_form = 'ANALOG' then 'AL2' else 'GL3' end as rate_kind,
        age_band in ('0-5', '6-17') as is_child,
        count(*) filter (where age_band not in ('0-5', '6-17'))
            over (partition by month, case_id) as adults_in_case
    from person_months
    where benefit_law = 'ASYLBLG'
),

levels as (
    select rate_kind, 6 as level, 1.0 as weight from asylblg where age_band = '0-5'
    union all
    select rate_kind, halves.level, 0.5 as weight
    from asylblg
    cross join (values (4), (5)) as halves (level)
    where age_band = '6-17'
    union all
    select rate_kind, case when adults_in_case = 1 then 1 else 2 end as level, 1.0 as weight
    from asylblg
    where not is_child
),

mix as (
    select rate_kind || '_BS' || level as parameter, sum(weight) / sum(sum(weight)) over () as weight
    from levels
    group by rate_kind, level
),

rate_index as (
    select 'ASYLBLG_RATES' as parameter, by_year.year, sum(mix.weight * by_year.value) as value
    from mix
    inner join by_year on by_year.parameter = mix.parameter
    group by by_year.year
),

final as (
    select parameter, cast(year as integer) as year, value from by_year
    union all
    select parameter, cast(year as integer) as year, value from rate_index
)

select * from final
