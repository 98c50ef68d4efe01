-- The stock-and-flow projection: persons per state, month by month from each origin.
--   stock(h + 1, s') = Σ_s stock(h, s) × p(s → s')   (int_planning_transitions)
-- with the source state '+' holding the month's arrivals, so stock(h + 1) also gets
-- arrivals × a(s'). Stock at h = 0 = the persons of the origin month. Persons are expected
-- values (fractional). A recursive CTE: the step is set-based (one join and one sum per month;
-- macro markov_projection).
-- The latest origin runs planning_horizon_months ahead; other origins 12 (the backtest's
-- longest horizon; from a December, the whole next year).
{%- set backtest_horizon = 12 %}
with recursive scenarios as (
    select * from {{ ref('int_planning_scenarios') }}
),

transitions as (
    select * from {{ ref('int_planning_transitions') }}
),

start as (
    select
        scenarios.origin,
        scenarios.scenario,
        persons.state_key,
        count(*)::double precision as persons
    from scenarios
    inner join {{ ref('int_planning_person_months') }} as persons
        on persons.month = scenarios.origin
    group by scenarios.origin, scenarios.scenario, persons.state_key
    union all
    select origin, scenario, '+' as state_key, arrivals_per_month as persons
    from scenarios
),

horizons as (
    select
        origin,
        scenario,
        case when is_latest then cast({{ setting('planning_horizon_months') }} as integer)
            else {{ backtest_horizon }} end as horizon
    from scenarios
),

{{ markov_projection('start', 'horizons', 'transitions') }},

final as (
    select
        origin,
        scenario,
        h,
        cast(origin + {{ months_interval('h') }} as date) as month,
        state_key,
        state_key = '+' as is_arrivals,
        persons
    from projection
    where h > 0
)

select * from final
