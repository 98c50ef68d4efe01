-- Cost (or revenue) per unit of its driver, per origin and budget line, at prices of 1:
--   unit_cost = Σ_m amount(m) ÷ price(year of m)  ÷  Σ_m quantity(m)
-- over the window months m in (origin − planning_history_months, origin] that have a ledger
-- delivery and a quantity of the driver. A line with no price parameter has price 1. The driver
-- and price come from the seed planning_drivers; a line with actuals that it does not list
-- follows all persons at constant prices. june_share lines have no unit cost (see
-- int_planning_budget).
with origins as (
    select * from {{ ref('int_planning_origins') }}
),

ledger as (
    select month, product_id, account_id, account_kind, amount
    from {{ ref('int_ledger_monthly') }}
),

ledger_months as (
    select distinct month from ledger
),

drivers as (
    select * from {{ ref('planning_drivers') }}
),

window_months as (
    select origins.origin, ledger_months.month
    from origins
    inner join ledger_months
        on ledger_months.month <= origins.origin
        and ledger_months.month
            > cast(origins.origin - {{ months_interval('origins.history_months') }} as date)
),

lines as (
    select distinct
        window_months.origin,
        ledger.product_id,
        ledger.account_id,
        ledger.account_kind,
        coalesce(drivers.driver, 'persons') as driver,
        drivers.price_parameter
    from window_months
    inner join ledger on ledger.month = window_months.month
    left join drivers
        on drivers.product_id = ledger.product_id and drivers.account_id = ledger.account_id
),

line_months as (
    select
        lines.*,
        window_months.month,
        coalesce(sum(ledger.amount), 0)::double precision as amount,
        any_value(quantities.quantity) as quantity,
        coalesce(any_value(prices.value), 1) as price
    from lines
    inner join window_months on window_months.origin = lines.origin
    inner join {{ ref('int_planning_actual_quantities') }} as quantities
        on quantities.month = window_months.month and quantities.driver = lines.driver
    left join ledger
        on ledger.month = window_months.month
        and ledger.product_id = lines.product_id
        and ledger.account_id = lines.account_id
    left join {{ ref('int_planning_prices') }} as prices
        on prices.parameter = lines.price_parameter and prices.year = {{ year_of('window_months.month') }}
    where lines.driver <> 'june_share'
    group by lines.origin, lines.product_id, lines.account_id, lines.account_kind, lines.driver,
        lines.price_parameter, window_months.month
),

final as (
    select
        lines.origin,
        lines.product_id,
        lines.account_id,
        lines.account_kind,
        lines.driver,
        lines.price_parameter,
        sum(line_months.amount / line_months.price) / nullif(sum(line_months.quantity), 0)
            as unit_cost
    from lines
    left join line_months
        on line_months.origin = lines.origin
        and line_months.product_id = lines.product_id
        and line_months.account_id = lines.account_id
    group by lines.origin, lines.product_id, lines.account_id, lines.account_kind, lines.driver,
        lines.price_parameter
)

select * from final
