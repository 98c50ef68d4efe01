-- The outlook of the yearly council report ("Ausblick"): from each December with data, city-wide
-- persons (expected) and Zuschussbedarf (expense − revenue of all projected lines) per scenario
-- and month of the following year, with the year's totals (year_*). City-wide totals only: no social space, so the disclosure
-- control of the per-social-space tables is unaffected.
with origins as (
    select origin from {{ ref('int_planning_origins') }} where {{ month_of('origin') }} = 12
),

persons as (
    select origin, scenario, month, quantity as persons
    from {{ ref('int_planning_quantities') }}
    where driver = 'persons' and origin in (select origin from origins)
),

money as (
    select
        origin,
        scenario,
        month,
        coalesce(sum(amount) filter (where account_kind = 'expense'), 0) as expense,
        coalesce(sum(amount) filter (where account_kind = 'revenue'), 0) as revenue
    from {{ ref('int_planning_budget') }}
    where origin in (select origin from origins)
    group by origin, scenario, month
),

final as (
    select
        persons.origin,
        persons.scenario,
        persons.month,
        cast({{ round_double('persons.persons', 2) }} as decimal(12, 2)) as persons,
        cast(coalesce(money.expense, 0) as decimal(18, 2)) as expense,
        cast(coalesce(money.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(money.expense, 0) - coalesce(money.revenue, 0) as decimal(18, 2)) as net,
        cast(sum(coalesce(money.expense, 0)) over year_of_scenario as decimal(18, 2))
            as year_expense,
        cast(sum(coalesce(money.revenue, 0)) over year_of_scenario as decimal(18, 2))
            as year_revenue,
        cast(sum(coalesce(money.expense, 0) - coalesce(money.revenue, 0)) over year_of_scenario
            as decimal(18, 2)) as year_net
    from persons
    left join money using (origin, scenario, month)
    where {{ year_of('persons.month') }} = {{ year_of('persons.origin') }} + 1
    window year_of_scenario as (partition by persons.origin, persons.scenario)
)

select * from final
