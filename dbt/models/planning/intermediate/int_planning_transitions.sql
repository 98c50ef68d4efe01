-- Monthly transition probabilities per origin and scenario, a Markov chain over the states:
--   exposure(s)      = person-months in state s at m − 1 over the window's month pairs
--   p(s → s')        = persons moving from s to s' (s' = s: staying) ÷ exposure(s)
--   d(s)             = departures from s ÷ exposure(s)
-- A scenario's departure_factor f sets d'(s) = min(1, f × d(s)) and rescales the other
-- probabilities of s by (1 − d'(s)) ÷ (1 − d(s)), so they and d' still add up to 1.
-- Arrivals enter through the source state '+': it keeps its stock (the scenario's arrivals per
-- month, probability 1 to itself) and sends it on by the window's arrival mix a(s') = arrivals
-- in s' ÷ all arrivals.
with origins as (
    select * from {{ ref('int_planning_origins') }} where window_pairs > 0
),

scenarios as (
    select * from {{ ref('int_planning_scenarios') }}
),

flows as (
    select origins.origin, flows.from_key, flows.to_key, sum(flows.persons) as persons
    from origins
    inner join {{ ref('int_planning_flows') }} as flows
        on flows.month <= origins.origin
        and flows.month
            > cast(origins.origin - {{ months_interval('origins.history_months') }} as date)
    group by origins.origin, flows.from_key, flows.to_key
),

exposure as (
    select
        origin,
        from_key,
        sum(persons) as exposure,
        cast(coalesce(sum(persons) filter (where to_key is null), 0) as double precision)
            / cast(sum(persons) as double precision) as departure_rate
    from flows
    where from_key is not null
    group by origin, from_key
),

moves as (
    select
        scenarios.scenario,
        flows.origin,
        flows.from_key,
        flows.to_key,
        cast(flows.persons as double precision) / cast(exposure.exposure as double precision)
            * case when exposure.departure_rate < 1
                then (1 - least(1, scenarios.departure_factor * exposure.departure_rate))
                    / (1 - exposure.departure_rate)
                else 0 end as probability
    from flows
    inner join exposure
        on exposure.origin = flows.origin and exposure.from_key = flows.from_key
    inner join scenarios on scenarios.origin = flows.origin
    where flows.to_key is not null
),

arrival_mix as (
    select
        scenarios.scenario,
        flows.origin,
        '+' as from_key,
        flows.to_key,
        cast(flows.persons as double precision)
            / cast(sum(flows.persons) over (partition by scenarios.scenario, flows.origin)
                as double precision) as probability
    from flows
    inner join scenarios on scenarios.origin = flows.origin
    where flows.from_key is null
),

source_keeps as (
    select scenario, origin, '+' as from_key, '+' as to_key, 1.0 as probability
    from scenarios
),

unioned as (
    select * from moves
    union all
    select * from arrival_mix
    union all
    select * from source_keeps
),

final as (
    select
        scenario,
        origin,
        cast(from_key as varchar) as from_key,
        cast(to_key as varchar) as to_key,
        probability
    from unioned
)

select * from final
