-- The proposed appropriation per scenario, year, product and account: the sum of the year's
-- projected months (fct_budget_projection), so equal to them to the cent; only years whose
-- twelve months are all projected (a line may have fewer rows: the June share). Compared with
-- the year before: its current appropriation (Ansatz + Nachtrag + Übertragung of the imported
-- plan) and its actual booked so far (ledger up to the last actual month).
-- change = proposed − prior year's appropriation.
with projection as (
    select * from {{ ref('fct_budget_projection') }}
),

full_years as (
    select {{ year_of('month') }} as year
    from projection
    group by {{ year_of('month') }}
    having count(distinct month) = 12
),

proposed as (
    select
        scenario,
        cast({{ year_of('month') }} as integer) as year,
        product_id,
        account_id,
        any_value(account_kind) as account_kind,
        sum(amount) as proposed_appropriation
    from projection
    where {{ year_of('month') }} in (select year from full_years)
    group by scenario, {{ year_of('month') }}, product_id, account_id
),

appropriations as (
    select year, product_id, account_id, any_value(current_appropriation) as appropriation
    from {{ ref('int_plan_monthly') }}
    group by year, product_id, account_id
),

actuals as (
    select year, product_id, account_id, sum(amount) as actual
    from {{ ref('int_ledger_monthly') }}
    group by year, product_id, account_id
),

final as (
    select
        proposed.scenario,
        proposed.year,
        proposed.product_id,
        proposed.account_id,
        proposed.account_kind,
        cast(proposed.proposed_appropriation as decimal(18, 2)) as proposed_appropriation,
        cast(appropriations.appropriation as decimal(18, 2)) as prior_year_appropriation,
        cast(actuals.actual as decimal(18, 2)) as prior_year_actual,
        cast(proposed.proposed_appropriation - coalesce(appropriations.appropriation, 0)
            as decimal(18, 2)) as change
    from proposed
    left join appropriations
        on appropriations.year = proposed.year - 1
        and appropriations.product_id = proposed.product_id
        and appropriations.account_id = proposed.account_id
    left join actuals
        on actuals.year = proposed.year - 1
        and actuals.product_id = proposed.product_id
        and actuals.account_id = proposed.account_id
)

select * from final
