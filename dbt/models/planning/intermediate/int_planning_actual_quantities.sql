-- The drivers of the budget lines in the actual months (long format: month, driver, quantity):
-- persons, AsylbLG persons, persons in GU, persons in flats, admissions (arrivals: in the month,
-- not in the month before; only where the month before has data), GU places (capacity of the GU
-- valid on the month's last day, seed accommodation) and FTE needed (persons in case management
-- ÷ setting target_cases_per_fte).
with person_months as (
    select * from {{ ref('int_planning_person_months') }}
),

gu_places as (
    {{ gu_places_per_month('(select distinct month from person_months)') }}
),

stock as (
    select
        month,
        count(*)::double precision as persons,
        {{ count_if("benefit_law = 'ASYLBLG'") }}::double precision as asylblg_persons,
        {{ count_if("housing = 'GU'") }}::double precision as gu_persons,
        {{ count_if("housing = 'DEZENTRAL'") }}::double precision as flat_persons,
        {{ count_if('in_case_management') }} / {{ setting('target_cases_per_fte') }} as fte_needed
    from person_months
    group by month
),

admissions as (
    select month, sum(persons)::double precision as admissions
    from {{ ref('int_planning_flows') }}
    where from_key is null
    group by month
),

final as (
    select stock.month, cast(drivers.driver as varchar) as driver, drivers.quantity
    from stock
    left join admissions on admissions.month = stock.month
    left join gu_places on gu_places.month = stock.month
    cross join lateral (
        values
            ('persons', stock.persons),
            ('asylblg_persons', stock.asylblg_persons),
            ('gu_persons', stock.gu_persons),
            ('flat_persons', stock.flat_persons),
            ('fte_needed', stock.fte_needed),
            ('admissions', admissions.admissions),
            ('gu_places', coalesce(gu_places.places, 0)::double precision)
    ) as drivers(driver, quantity)
    where drivers.quantity is not null
)

select * from final
