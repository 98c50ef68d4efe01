{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Per month x Teilhaushalt: the sums of its products (int_budget_unit_products) from
-- fct_budget_product_monthly. The budget total every report shows; K13's numerator (net burden
-- to date) is the sum over the same product set. Ratios and the traffic light as per product.
with products as (
    select * from {{ ref('fct_budget_product_monthly') }}
    where {{ month_window() }}
),

unit_products as (
    select product_id, budget_unit from {{ ref('int_budget_unit_products') }}
),

summed as (
    select
        products.month,
        products.year,
        unit_products.budget_unit,
        sum(products.expense_appropriation) as expense_appropriation,
        sum(products.revenue_appropriation) as revenue_appropriation,
        sum(products.net_appropriation) as net_appropriation,
        sum(products.plan_to_date_net) as plan_to_date_net,
        sum(products.expense_to_date) as expense_to_date,
        sum(products.revenue_to_date) as revenue_to_date,
        sum(products.net_burden_to_date) as net_burden_to_date,
        sum(products.forecast_net) as forecast_net,
        bool_or(products.is_partial_year) as is_partial_year,
        bool_and(products.is_ledger_complete) as is_ledger_complete
    from products
    inner join unit_products on products.product_id = unit_products.product_id
    group by products.month, products.year, unit_products.budget_unit
),

final as (
    select
        month,
        year,
        budget_unit,
        {{ budget_execution_measures() }}
    from summed
)

select * from final
