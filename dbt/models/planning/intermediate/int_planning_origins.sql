-- Every month with a persons stock is an origin a projection can start from: the latest one for
-- the plan, the earlier ones for the backtest. Its estimation window is the month pairs
-- (m − 1 → m) with m in (origin − planning_history_months, origin]; window_pairs counts those
-- with data (a backtest origin counts only with a full window).
with data_months as (
    select distinct month from {{ ref('int_planning_person_months') }}
),

pair_months as (
    select distinct month from {{ ref('int_planning_flows') }}
),

final as (
    select
        data_months.month as origin,
        data_months.month = (select max(month) from data_months) as is_latest,
        cast(count(pair_months.month) as integer) as window_pairs,
        cast({{ setting('planning_history_months') }} as integer) as history_months
    from data_months
    left join pair_months
        on pair_months.month <= data_months.month
        and pair_months.month > cast(data_months.month
            - {{ months_interval("cast(" ~ setting('planning_history_months') ~ " as integer)") }}
            as date)
    group by data_months.month
)

select * from final
