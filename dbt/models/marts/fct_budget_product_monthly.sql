{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Per month x product: net = expenses − revenues (Zuschussbedarf); coverage_ratio = revenues ÷
-- expenses (Deckungsgrad), year to date. Accounts of kind 'other' are left out of all sums.
-- Traffic light on the expected year-end net burden: over = forecast_net − net_appropriation;
-- green when over <= 0; yellow when over <= budget_traffic_light_tolerance (seed settings) of
-- |net_appropriation|; red otherwise. No light when the forecast is not comparable with the
-- year's appropriation: a partial first year (data start after January) or a ledger gap.
with execution as (
    select * from {{ ref('fct_budget_execution') }}
    where {{ month_window() }}
      and account_kind in ('expense', 'revenue')
),

summed as (
    select
        month,
        year,
        product_id,
        any_value(budget_unit) as budget_unit,
        sum(current_appropriation) filter (where account_kind = 'expense') as expense_appropriation,
        sum(current_appropriation) filter (where account_kind = 'revenue') as revenue_appropriation,
        sum(plan_to_date) filter (where account_kind = 'expense') as expense_plan_to_date,
        sum(plan_to_date) filter (where account_kind = 'revenue') as revenue_plan_to_date,
        sum(expense_to_date) as expense_to_date,
        sum(revenue_to_date) as revenue_to_date,
        sum(forecast) filter (where account_kind = 'expense') as expense_forecast,
        sum(forecast) filter (where account_kind = 'revenue') as revenue_forecast,
        bool_or(is_partial_year) as is_partial_year,
        bool_and(is_ledger_complete) as is_ledger_complete
    from execution
    group by month, year, product_id
),

nets as (
    select
        month,
        year,
        product_id,
        budget_unit,
        coalesce(expense_appropriation, 0) as expense_appropriation,
        coalesce(revenue_appropriation, 0) as revenue_appropriation,
        coalesce(expense_appropriation, 0) - coalesce(revenue_appropriation, 0) as net_appropriation,
        coalesce(expense_plan_to_date, 0) - coalesce(revenue_plan_to_date, 0) as plan_to_date_net,
        expense_to_date,
        revenue_to_date,
        expense_to_date - revenue_to_date as net_burden_to_date,
        coalesce(expense_forecast, 0) - coalesce(revenue_forecast, 0) as forecast_net,
        is_partial_year,
        is_ledger_complete
    from summed
),

final as (
    select
        month,
        year,
        product_id,
        budget_unit,
        {{ budget_execution_measures() }}
    from nets
)

select * from final
