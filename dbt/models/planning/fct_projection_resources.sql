-- What the projection needs per scenario and month: persons, AsylbLG persons (K01), admissions,
-- persons in GU vs. GU places available (after the scenario's gu_places_change), FTE needed
-- (persons in case management ÷ target_cases_per_fte) vs. FTE of the last actual month (seed
-- staff_fte, FALLMANAGEMENT), and the first month the GU places run out (persons in GU > places;
-- NULL = never within the horizon).
with quantities as (
    select * from {{ ref('int_planning_quantities') }}
    where origin = (select max(origin) from {{ ref('int_planning_origins') }})
),

pivoted as (
    select
        scenario,
        month,
        max(quantity) filter (where driver = 'persons') as persons,
        max(quantity) filter (where driver = 'asylblg_persons') as asylblg_persons,
        max(quantity) filter (where driver = 'admissions') as admissions,
        max(quantity) filter (where driver = 'gu_persons') as gu_persons,
        max(quantity) filter (where driver = 'gu_places') as gu_places,
        max(quantity) filter (where driver = 'fte_needed') as fte_needed
    from quantities
    group by scenario, month
),

staff as (
    select fte from {{ ref('staff_fte') }}
    where unit = 'FALLMANAGEMENT'
      and month <= (select max(origin) from {{ ref('int_planning_origins') }})
    order by month desc
    limit 1
),

final as (
    select
        scenario,
        month,
        cast({{ round_double('persons', 2) }} as decimal(12, 2)) as persons,
        cast({{ round_double('asylblg_persons', 2) }} as decimal(12, 2)) as asylblg_persons,
        cast({{ round_double('admissions', 2) }} as decimal(12, 2)) as admissions,
        cast({{ round_double('gu_persons', 2) }} as decimal(12, 2)) as gu_persons,
        cast(gu_places as integer) as gu_places,
        cast({{ round_double('fte_needed', 2) }} as decimal(8, 2)) as fte_needed,
        (select fte from staff) as fte_available,
        min(month) filter (where gu_persons > gu_places) over (partition by scenario)
            as gu_capacity_runs_out
    from pivoted
)

select * from final
