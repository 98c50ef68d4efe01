-- The drivers of the budget lines in the projected months, per origin and scenario (the same
-- drivers as int_planning_actual_quantities): persons by state from the projection; admissions
-- = the scenario's arrivals per month; GU places = capacity valid on the month's last day +
-- the scenario's gu_places_change; FTE needed = projected persons × share of persons in case
-- management over the origin's window ÷ target_cases_per_fte.
with projection as (
    select
        origin,
        scenario,
        month,
        is_arrivals,
        persons,
        split_part(state_key, '|', 3) as benefit_law,
        split_part(state_key, '|', 4) as housing
    from {{ ref('int_planning_projection') }}
),

scenarios as (
    select * from {{ ref('int_planning_scenarios') }}
),

person_months as (
    select month, in_case_management from {{ ref('int_planning_person_months') }}
),

case_management_share as (
    select
        origins.origin,
        cast(avg(person_months.in_case_management::integer) as double precision) as share
    from {{ ref('int_planning_origins') }} as origins
    inner join person_months
        on person_months.month <= origins.origin
        and person_months.month
            > cast(origins.origin - {{ months_interval('origins.history_months') }} as date)
    group by origins.origin
),

stock as (
    select
        origin,
        scenario,
        month,
        sum(persons) filter (where not is_arrivals) as persons,
        coalesce(sum(persons) filter (where benefit_law = 'ASYLBLG' and not is_arrivals), 0)
            as asylblg_persons,
        coalesce(sum(persons) filter (where housing = 'GU' and not is_arrivals), 0) as gu_persons,
        coalesce(sum(persons) filter (where housing = 'DEZENTRAL' and not is_arrivals), 0)
            as flat_persons,
        coalesce(sum(persons) filter (where is_arrivals), 0) as admissions
    from projection
    group by origin, scenario, month
),

gu_places as (
    {{ gu_places_per_month('(select distinct month from projection)') }}
),

final as (
    select
        stock.origin,
        stock.scenario,
        stock.month,
        cast(drivers.driver as varchar) as driver,
        drivers.quantity
    from stock
    inner join scenarios
        on scenarios.origin = stock.origin and scenarios.scenario = stock.scenario
    left join case_management_share on case_management_share.origin = stock.origin
    left join gu_places on gu_places.month = stock.month
    cross join lateral (
        values
            ('persons', coalesce(stock.persons, 0)),
            ('asylblg_persons', stock.asylblg_persons),
            ('gu_persons', stock.gu_persons),
            ('flat_persons', stock.flat_persons),
            ('admissions', stock.admissions),
            ('fte_needed', coalesce(stock.persons, 0) * coalesce(case_management_share.share, 0)
                / {{ setting('target_cases_per_fte') }}),
            ('gu_places',
                (coalesce(gu_places.places, 0) + scenarios.gu_places_change)::double precision)
    ) as drivers(driver, quantity)
)

select * from final
