-- Scenarios per origin with their parameters resolved: the latest origin and every December
-- (the outlook of the yearly council report) get every scenario of the seed, other origins
-- only `basis` (backtest, mid-year forecast). Monthly arrivals = the scenario's arrivals_per_month,
-- or when empty the mean arrivals per month pair of the origin's window, times arrivals_factor.
with parameters as (
    select
        scenario,
        max({{ try_cast_number("nullif(trim(value), '')", 'double precision') }})
            filter (where parameter = 'arrivals_per_month') as arrivals_per_month,
        coalesce(max({{ try_cast_number("nullif(trim(value), '')", 'double precision') }})
            filter (where parameter = 'arrivals_factor'), 1) as arrivals_factor,
        coalesce(max({{ try_cast_number("nullif(trim(value), '')", 'double precision') }})
            filter (where parameter = 'departure_factor'), 1) as departure_factor,
        coalesce(max({{ try_cast_number("nullif(trim(value), '')", 'integer') }})
            filter (where parameter = 'gu_places_change'), 0) as gu_places_change
    from {{ ref('scenarios') }}
    group by scenario
),

origins as (
    select * from {{ ref('int_planning_origins') }} where window_pairs > 0
),

estimated_arrivals as (
    select
        origins.origin,
        cast(sum(flows.persons) as double precision) / any_value(origins.window_pairs)
            as arrivals
    from origins
    inner join {{ ref('int_planning_flows') }} as flows
        on flows.from_key is null
        and flows.month <= origins.origin
        and flows.month > cast(origins.origin - {{ months_interval('origins.history_months') }} as date)
    group by origins.origin
),

final as (
    select
        origins.origin,
        origins.is_latest,
        parameters.scenario,
        coalesce(parameters.arrivals_per_month, estimated_arrivals.arrivals, 0)
            * parameters.arrivals_factor as arrivals_per_month,
        parameters.departure_factor,
        parameters.gu_places_change
    from origins
    inner join parameters
        on origins.is_latest or parameters.scenario = 'basis'
        or {{ month_of('origins.origin') }} = 12
    left join estimated_arrivals on estimated_arrivals.origin = origins.origin
)

select * from final
