-- Backtest: the projection (scenario basis) from each earlier month t with a full estimation
-- window, compared with the actuals at t + 3, t + 6 and t + 12, for K01 (persons under the
-- AsylbLG) and the AsylbLG expense of 31.30.01 (expense accounts). Beside it the naive forecast
-- "the same as month t". MAPE = mean over the origins of |forecast − actual| ÷ actual (a share).
{%- set horizons = [3, 6, 12] %}
with origins as (
    select origin from {{ ref('int_planning_origins') }}
    where not is_latest and window_pairs = history_months
),

actual as (
    select month, 'K01' as measure, quantity as value
    from {{ ref('int_planning_actual_quantities') }}
    where driver = 'asylblg_persons'
    union all
    select month, 'AsylbLG-Aufwand 31.30.01' as measure,
        sum(amount)::double precision as value
    from {{ ref('int_ledger_monthly') }}
    where product_id = '31.30.01' and account_kind = 'expense'
    group by month
),

projected as (
    select origin, month, 'K01' as measure, quantity as value
    from {{ ref('int_planning_quantities') }}
    where scenario = 'basis' and driver = 'asylblg_persons'
    union all
    select origin, month, 'AsylbLG-Aufwand 31.30.01' as measure,
        sum(amount)::double precision as value
    from {{ ref('int_planning_budget') }}
    where scenario = 'basis' and product_id = '31.30.01' and account_kind = 'expense'
    group by origin, month
),

horizons as (
    select horizon
    from (values {% for h in horizons %}({{ h }}){{ ", " if not loop.last }}{% endfor %})
        as horizon_values (horizon)
),

errors as (
    select
        projected.measure,
        horizons.horizon,
        origins.origin,
        abs(projected.value - target.value) / target.value as error,
        abs(naive.value - target.value) / target.value as naive_error
    from origins
    cross join horizons
    inner join projected
        on projected.origin = origins.origin
        and projected.month
            = cast(origins.origin + {{ months_interval('horizons.horizon') }} as date)
    inner join actual as target
        on target.measure = projected.measure and target.month = projected.month
    inner join actual as naive
        on naive.measure = projected.measure and naive.month = origins.origin
    where target.value <> 0
),

final as (
    select
        cast(measure as varchar) as measure,
        horizon,
        cast(count(*) as integer) as origins,
        min(origin) as first_origin,
        max(origin) as last_origin,
        {{ round_double('avg(error)', 4) }} as mape,
        {{ round_double('avg(naive_error)', 4) }} as mape_naive
    from errors
    group by measure, horizon
)

select * from final
