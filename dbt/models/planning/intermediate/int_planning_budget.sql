-- Money follows persons: the projected amount per origin, scenario, month and budget line.
--   amount = unit_cost (int_planning_unit_costs) × quantity of the driver in the month
--            (int_planning_quantities) × price of the month's year (int_planning_prices),
--   rounded to the cent per month (a year is the sum of its rounded months, to the cent).
-- june_share (the Land's yearly share, BW FlüAG): in June only,
--   amount = LAND_YEARLY_SHARE of the year × AsylbLG expense of 31.30.01 in the year before
--   (actual months up to the origin + projected months after it).
with unit_costs as (
    select * from {{ ref('int_planning_unit_costs') }}
),

quantities as (
    select * from {{ ref('int_planning_quantities') }}
),

prices as (
    select * from {{ ref('int_planning_prices') }}
),

regular as (
    select
        quantities.origin,
        quantities.scenario,
        quantities.month,
        unit_costs.product_id,
        unit_costs.account_id,
        unit_costs.account_kind,
        cast({{ round_double('unit_costs.unit_cost * quantities.quantity'
            ~ ' * coalesce(prices.value, 1)', 2) }} as decimal(18, 2)) as amount
    from unit_costs
    inner join quantities
        on quantities.origin = unit_costs.origin and quantities.driver = unit_costs.driver
    left join prices
        on prices.parameter = unit_costs.price_parameter
        and prices.year = {{ year_of('quantities.month') }}
    where unit_costs.unit_cost is not null
),

asylblg_expense_by_year as (
    select origin, scenario, {{ year_of('month') }} as year, sum(amount) as amount
    from (
        select scenarios.origin, scenarios.scenario, ledger.month, ledger.amount
        from {{ ref('int_planning_scenarios') }} as scenarios
        inner join {{ ref('int_ledger_monthly') }} as ledger
            on ledger.month <= scenarios.origin
        where ledger.product_id = '31.30.01' and ledger.account_kind = 'expense'
        union all
        select origin, scenario, month, amount
        from regular
        where product_id = '31.30.01' and account_kind = 'expense'
    )
    group by origin, scenario, {{ year_of('month') }}
),

june_share as (
    select
        quantities.origin,
        quantities.scenario,
        quantities.month,
        unit_costs.product_id,
        unit_costs.account_id,
        unit_costs.account_kind,
        cast({{ round_double('prices.value * previous_year.amount', 2) }} as decimal(18, 2)) as amount
    from unit_costs
    inner join quantities
        on quantities.origin = unit_costs.origin
        and quantities.driver = 'persons'
        and {{ month_of('quantities.month') }} = 6
    inner join prices
        on prices.parameter = unit_costs.price_parameter
        and prices.year = {{ year_of('quantities.month') }}
    inner join asylblg_expense_by_year as previous_year
        on previous_year.origin = quantities.origin
        and previous_year.scenario = quantities.scenario
        and previous_year.year = {{ year_of('quantities.month') }} - 1
    where unit_costs.driver = 'june_share'
),

final as (
    select * from regular
    union all
    select * from june_share
)

select * from final
