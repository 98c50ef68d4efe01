-- Forecast to year end from any month (30 June above all): actual to date + the projection of
-- the year's remaining months, per month (= origin), scenario, product and account, against the
-- year's current appropriation (Ansatz + Nachtrag + Übertragung):
--   forecast           = actual_to_date + projected_remainder
--   expected_deviation = forecast − current_appropriation
-- The latest month has every scenario; earlier months the scenario basis (their projection
-- reaches 12 months, enough for the rest of their year). December: remainder 0.
with scenarios as (
    select origin, scenario from {{ ref('int_planning_scenarios') }}
),

ledger as (
    select * from {{ ref('int_ledger_monthly') }}
),

actual as (
    select
        scenarios.origin,
        scenarios.scenario,
        ledger.product_id,
        ledger.account_id,
        any_value(ledger.account_kind) as account_kind,
        sum(ledger.amount) as amount
    from scenarios
    inner join ledger
        on ledger.month <= scenarios.origin
        and {{ year_of('ledger.month') }} = {{ year_of('scenarios.origin') }}
    group by scenarios.origin, scenarios.scenario, ledger.product_id, ledger.account_id
),

remainder as (
    select
        origin,
        scenario,
        product_id,
        account_id,
        any_value(account_kind) as account_kind,
        sum(amount) as amount
    from {{ ref('int_planning_budget') }}
    where month > origin and {{ year_of('month') }} = {{ year_of('origin') }}
    group by origin, scenario, product_id, account_id
),

plan as (
    select
        scenarios.origin,
        scenarios.scenario,
        plan.product_id,
        plan.account_id,
        any_value(plan.current_appropriation) as appropriation
    from scenarios
    inner join {{ ref('int_plan_monthly') }} as plan
        on plan.year = {{ year_of('scenarios.origin') }}
    group by scenarios.origin, scenarios.scenario, plan.product_id, plan.account_id
),

lines as (
    select origin, scenario, product_id, account_id from actual
    union
    select origin, scenario, product_id, account_id from remainder
    union
    select origin, scenario, product_id, account_id from plan
),

final as (
    select
        lines.origin as month,
        cast({{ year_of('lines.origin') }} as integer) as year,
        lines.scenario,
        lines.product_id,
        lines.account_id,
        cast(coalesce(actual.account_kind, remainder.account_kind, accounts.account_kind, 'other')
            as varchar) as account_kind,
        cast(coalesce(plan.appropriation, 0) as decimal(18, 2)) as current_appropriation,
        cast(coalesce(actual.amount, 0) as decimal(18, 2)) as actual_to_date,
        cast(coalesce(remainder.amount, 0) as decimal(18, 2)) as projected_remainder,
        cast(coalesce(actual.amount, 0) + coalesce(remainder.amount, 0) as decimal(18, 2))
            as forecast,
        cast(coalesce(actual.amount, 0) + coalesce(remainder.amount, 0)
            - coalesce(plan.appropriation, 0) as decimal(18, 2)) as expected_deviation
    from lines
    left join actual using (origin, scenario, product_id, account_id)
    left join remainder using (origin, scenario, product_id, account_id)
    left join plan using (origin, scenario, product_id, account_id)
    left join {{ ref('accounts') }} as accounts on accounts.account_id = lines.account_id
)

select * from final
