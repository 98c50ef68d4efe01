{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Budget execution per month x product x account that has a plan line in the year or a posting
-- in the year up to the month. Money in integer cents internally, exact.
--
-- Months with data: the ledger starts with its first month (data_start). In the year of the
-- data start the months before it have no actuals, so plan_to_date (and the plan share of the
-- run rate) counts only the months from the data start (is_partial_year): Nov-Dec 2023 actuals
-- are compared with the Nov-Dec plan, not with 11/12 of the year's appropriation.
-- is_ledger_complete: every month from the year's first month with data up to the month has a
-- ledger delivery; a gap makes actual_to_date (and every forecast from it) incomplete.
--
-- Forecast of the year-end actual (Hochrechnung):
--   run_rate  = actual_to_date ÷ plan share of the months with data (profile of the plan line);
--               linear share (months with data)/12 when the line has no plan or that share is 0.
--   caseload  = only for the product of indicator K05 (catalogue): actual_to_date
--               + remaining months × (actuals of the last 3 months ÷ caseload person-months of
--               those months) × caseload of the month; caseload = persons with Rechtskreis ASYLBLG
--               (K01). NULL unless all 3 months have a persons stock with a caseload > 0 and a
--               ledger delivery (a missing ledger month would read as zero cost).
--   forecast  = caseload where present, else run_rate; forecast_method names which.
with months as (
    select month from {{ ref('int_months') }}
    where {{ month_window() }}
),

plan as (
    select * from {{ ref('int_plan_monthly') }}
),

ledger as (
    select * from {{ ref('int_ledger_monthly') }}
),

accounts as (
    select account_id, account_kind from {{ ref('accounts') }}
),

products as (
    select product_id, budget_unit from {{ ref('products') }}
),

ledger_months as (
    select distinct month from ledger
),

data_start as (
    select min(month) as month from ledger_months
),

coverage as (
    select
        months.month,
        greatest(make_date({{ year_of('months.month') }}, 1, 1),
            coalesce(data_start.month, make_date({{ year_of('months.month') }}, 1, 1))) as covered_from
    from months
    cross join data_start
),

completeness as (
    select
        month,
        cast(covered_from as date) as covered_from,
        covered_from > make_date({{ year_of('month') }}, 1, 1) as is_partial_year,
        {{ months_between('covered_from', 'month') }} + 1 as months_with_data,
        (select count(*) from ledger_months
            where ledger_months.month >= coverage.covered_from
              and ledger_months.month <= coverage.month)
            = {{ months_between('covered_from', 'month') }} + 1 as is_ledger_complete,
        (select count(*) from ledger_months
            where ledger_months.month > coverage.month - interval '3 month'
              and ledger_months.month <= coverage.month) as ledger_last_3_months
    from coverage
),

caseload_product as (
    select product_id from {{ ref('indicators') }} where indicator_id = 'K05'
),

caseload as (
    select month, {{ count_if("benefit_law = 'ASYLBLG'") }} as persons
    from {{ ref('int_person_months') }}
    group by month
),

lines as (
    select months.month, plan.product_id, plan.account_id
    from months
    inner join plan on plan.month = months.month
    union
    select months.month, ledger.product_id, ledger.account_id
    from months
    inner join ledger
        on {{ year_of('ledger.month') }} = {{ year_of('months.month') }}
        and ledger.month <= months.month
),

actuals as (
    select
        lines.month,
        lines.product_id,
        lines.account_id,
        coalesce(sum(ledger.amount) filter (where ledger.month = lines.month), 0) as actual_month,
        coalesce(sum(ledger.amount) filter (where {{ year_of('ledger.month') }} = {{ year_of('lines.month') }}), 0)
            as actual_to_date,
        coalesce(sum(ledger.amount) filter (
            where ledger.month > lines.month - interval '3 month'), 0) as actual_last_3_months
    from lines
    left join ledger
        on ledger.product_id = lines.product_id
        and ledger.account_id = lines.account_id
        and ledger.month <= lines.month
        and ({{ year_of('ledger.month') }} = {{ year_of('lines.month') }} or ledger.month > lines.month - interval '3 month')
    group by lines.month, lines.product_id, lines.account_id
),

caseload_windows as (
    select
        months.month,
        max(caseload.persons) filter (where caseload.month = months.month) as latest_caseload,
        sum(caseload.persons) as caseload_last_3_months,
        {{ count_if("caseload.persons > 0") }} as months_with_caseload
    from months
    inner join caseload
        on caseload.month <= months.month
        and caseload.month > months.month - interval '3 month'
    group by months.month
),

joined as (
    select
        actuals.month,
        cast({{ year_of('actuals.month') }} as integer) as year,
        cast({{ month_of('actuals.month') }} as integer) as month_of_year,
        actuals.product_id,
        actuals.account_id,
        coalesce(accounts.account_kind, 'other') as account_kind,
        products.budget_unit,
        coalesce(plan.original_appropriation, 0) as original_appropriation,
        coalesce(plan.supplementary, 0) as supplementary,
        coalesce(plan.carried_over, 0) as carried_over,
        coalesce(plan.current_appropriation, 0) as current_appropriation,
        coalesce(plan.plan_month, 0) as plan_month,
        coalesce(plan.plan_to_date, 0) - coalesce(plan_before.plan_to_date, 0) as plan_to_date,
        completeness.is_partial_year,
        completeness.is_ledger_complete,
        actuals.actual_month,
        actuals.actual_to_date,
        {{ to_cents('actuals.actual_to_date') }} as actual_to_date_cents,
        {{ to_cents('actuals.actual_last_3_months') }} as actual_last_3_months_cents,
        case when coalesce(plan.share_numerator - coalesce(plan_before.share_numerator, 0), 0) > 0
             then plan.share_numerator - coalesce(plan_before.share_numerator, 0)
             else completeness.months_with_data end as share_numerator,
        case when coalesce(plan.share_numerator - coalesce(plan_before.share_numerator, 0), 0) > 0
             then plan.share_denominator
             else 12 end as share_denominator,
        caseload_product.product_id is not null
            and caseload_windows.months_with_caseload = 3
            and completeness.ledger_last_3_months = 3
            and caseload_windows.latest_caseload is not null as has_caseload_forecast,
        caseload_windows.latest_caseload,
        caseload_windows.caseload_last_3_months
    from actuals
    inner join completeness on completeness.month = actuals.month
    left join plan
        on plan.month = actuals.month
        and plan.product_id = actuals.product_id
        and plan.account_id = actuals.account_id
    left join plan as plan_before
        on plan_before.month = completeness.covered_from - interval '1 month'
        and plan_before.year = {{ year_of('actuals.month') }}
        and plan_before.product_id = actuals.product_id
        and plan_before.account_id = actuals.account_id
    left join accounts on accounts.account_id = actuals.account_id
    left join products on products.product_id = actuals.product_id
    left join caseload_product on caseload_product.product_id = actuals.product_id
    left join caseload_windows on caseload_windows.month = actuals.month
),

forecasts as (
    select
        *,
        {{ from_cents(round_div('actual_to_date_cents * share_denominator', 'share_numerator')) }}
            as forecast_run_rate,
        -- Cast again: PostgreSQL drops the scale of a CASE result (numeric without typmod).
        cast(case when has_caseload_forecast then {{ from_cents(
            'actual_to_date_cents + ' ~ round_div(
                '(12 - month_of_year) * latest_caseload * actual_last_3_months_cents',
                'caseload_last_3_months')) }} end as decimal(18, 2)) as forecast_caseload
    from joined
),

final as (
    select
        month,
        year,
        product_id,
        account_id,
        account_kind,
        budget_unit,
        cast(original_appropriation as decimal(18, 2)) as original_appropriation,
        cast(supplementary as decimal(18, 2)) as supplementary,
        cast(carried_over as decimal(18, 2)) as carried_over,
        cast(current_appropriation as decimal(18, 2)) as current_appropriation,
        cast(plan_month as decimal(18, 2)) as plan_month,
        cast(plan_to_date as decimal(18, 2)) as plan_to_date,
        cast(actual_month as decimal(18, 2)) as actual_month,
        cast(actual_to_date as decimal(18, 2)) as actual_to_date,
        is_partial_year,
        is_ledger_complete,
        cast(actual_to_date - plan_to_date as decimal(18, 2)) as deviation_to_date,
        {{ safe_ratio('actual_to_date - plan_to_date', 'plan_to_date') }}
            as deviation_to_date_ratio,
        {{ safe_ratio('actual_to_date', 'current_appropriation') }} as exhaustion_ratio,
        forecast_run_rate,
        forecast_caseload,
        cast(coalesce(forecast_caseload, forecast_run_rate) as decimal(18, 2)) as forecast,
        -- varchar, not PostgreSQL's text of a literal CASE: an incremental run would see a type change.
        cast(case when forecast_caseload is not null then 'caseload' else 'run_rate' end as varchar)
            as forecast_method,
        cast(coalesce(forecast_caseload, forecast_run_rate) - current_appropriation
            as decimal(18, 2)) as expected_deviation,
        cast(case when account_kind = 'expense' then actual_to_date else 0 end
            as decimal(18, 2)) as expense_to_date,
        cast(case when account_kind = 'revenue' then actual_to_date else 0 end
            as decimal(18, 2)) as revenue_to_date,
        cast(case when account_kind = 'expense' then actual_to_date
                  when account_kind = 'revenue' then -actual_to_date else 0 end
            as decimal(18, 2)) as net_burden_to_date
    from forecasts
)

select * from final
