{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Social-space budgets: per month x social space x product, the expense side of the product
-- budget split by the negotiated shares (seed social_space_budget_shares), against the expenses
-- the cost accounting attributed to the social space (int_cost_allocation_monthly), year to date.
--   appropriation, plan_to_date  = share x the product's expense appropriation / plan to date
--                                  (fct_budget_execution: phasing, partial first year), cents
--                                  half away from zero
--   actual_to_date               = attributed expenses, January up to the month
--   forecast                     = actual_to_date ÷ (plan_to_date ÷ appropriation), the product's
--                                  phasing as run rate; actual_to_date x 12 ÷ month without plan
-- Deviation and traffic light: macro budget_execution_measures, the rule of the product budgets
-- (no light in a partial year or with a ledger gap). Revenues stay with the product budget.
with months as (
    select month from {{ ref('int_months') }}
    where {{ month_window() }}
),

product_plan as (
    select
        month,
        year,
        product_id,
        {{ to_cents('sum(current_appropriation)') }} as appropriation_cents,
        {{ to_cents('sum(plan_to_date)') }} as plan_to_date_cents,
        bool_or(is_partial_year) as is_partial_year,
        bool_and(is_ledger_complete) as is_ledger_complete
    from {{ ref('fct_budget_execution') }}
    where {{ month_window() }}
      and account_kind = 'expense'
    group by month, year, product_id
),

shares as (
    select
        year,
        product_id,
        social_space_id,
        cast(round(share * 10000) as {{ int128() }}) as share_per_10000
    from {{ ref('social_space_budget_shares') }}
),

actuals as (
    select
        months.month,
        allocation.product_id,
        allocation.social_space_id,
        sum(allocation.amount_cents) as actual_to_date_cents
    from months
    inner join {{ ref('int_cost_allocation_monthly') }} as allocation
        on allocation.month <= months.month
        and allocation.month >= date_trunc('year', months.month)
    inner join {{ ref('accounts') }} as accounts
        on accounts.account_id = allocation.account_id and accounts.account_kind = 'expense'
    group by months.month, allocation.product_id, allocation.social_space_id
),

joined as (
    select
        product_plan.month,
        product_plan.year,
        shares.social_space_id,
        product_plan.product_id,
        {{ round_div('product_plan.appropriation_cents * shares.share_per_10000', '10000') }}
            as appropriation_cents,
        {{ round_div('product_plan.plan_to_date_cents * shares.share_per_10000', '10000') }}
            as plan_to_date_cents,
        coalesce(actuals.actual_to_date_cents, 0) as actual_to_date_cents,
        product_plan.appropriation_cents as product_appropriation_cents,
        product_plan.plan_to_date_cents as product_plan_to_date_cents,
        product_plan.is_partial_year,
        product_plan.is_ledger_complete
    from product_plan
    inner join shares
        on shares.year = product_plan.year and shares.product_id = product_plan.product_id
    left join actuals
        on actuals.month = product_plan.month
        and actuals.product_id = product_plan.product_id
        and actuals.social_space_id = shares.social_space_id
    -- a social space without a share and without expenses of the product has no budget line
    where shares.share_per_10000 > 0 or actuals.actual_to_date_cents is not null
),

nets as (
    select
        month,
        year,
        social_space_id,
        product_id,
        {{ from_cents('appropriation_cents') }} as expense_appropriation,
        0 as revenue_appropriation,
        {{ from_cents('appropriation_cents') }} as net_appropriation,
        {{ from_cents('plan_to_date_cents') }} as plan_to_date_net,
        {{ from_cents('actual_to_date_cents') }} as expense_to_date,
        0 as revenue_to_date,
        {{ from_cents('actual_to_date_cents') }} as net_burden_to_date,
        case when product_plan_to_date_cents > 0
            then {{ from_cents(round_div(
                'actual_to_date_cents * product_appropriation_cents',
                'product_plan_to_date_cents')) }}
            else {{ from_cents(round_div('actual_to_date_cents * 12', month_of('month'))) }}
        end as forecast_net,
        is_partial_year,
        is_ledger_complete
    from joined
),

measures as (
    select
        month,
        year,
        social_space_id,
        product_id,
        {{ budget_execution_measures() }}
    from nets
),

final as (
    select
        month,
        cast(year as integer) as year,
        social_space_id,
        product_id,
        net_appropriation as appropriation,
        plan_to_date_net as plan_to_date,
        net_burden_to_date as actual_to_date,
        deviation_to_date,
        deviation_to_date_ratio,
        forecast_net as forecast,
        expected_deviation,
        is_partial_year,
        is_ledger_complete,
        traffic_light
    from measures
)

select * from final
