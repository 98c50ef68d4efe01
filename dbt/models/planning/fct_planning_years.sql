-- The planning workbook's side-by-side view: per scenario, year (fully projected years, as in
-- fct_budget_proposal) and product (product_id 'GESAMT' = all products): expense, revenue and
-- Zuschussbedarf (net = expense − revenue) proposed, beside the year before's appropriations;
-- and, on the GESAMT rows, the stock figures of December, the year's admissions, the most
-- persons in GU in a month vs. the GU places in December, the month capacity runs out, and FTE.
with proposal as (
    select * from {{ ref('fct_budget_proposal') }}
    where account_kind in ('expense', 'revenue')
),

money as (
    select
        scenario,
        year,
        cast(coalesce(product_id, 'GESAMT') as varchar) as product_id,
        sum(proposed_appropriation) filter (where account_kind = 'expense') as expense,
        sum(proposed_appropriation) filter (where account_kind = 'revenue') as revenue,
        sum(prior_year_appropriation) filter (where account_kind = 'expense')
            as prior_year_expense_appropriation,
        sum(prior_year_appropriation) filter (where account_kind = 'revenue')
            as prior_year_revenue_appropriation
    from proposal
    group by grouping sets ((scenario, year, product_id), (scenario, year))
),

resources as (
    select
        scenario,
        cast({{ year_of('month') }} as integer) as year,
        max(persons) filter (where {{ month_of('month') }} = 12) as persons_december,
        max(asylblg_persons) filter (where {{ month_of('month') }} = 12) as asylblg_persons_december,
        sum(admissions) as admissions,
        max(gu_persons) as gu_persons_max,
        max(gu_places) filter (where {{ month_of('month') }} = 12) as gu_places_december,
        any_value(gu_capacity_runs_out) as gu_capacity_runs_out,
        max(fte_needed) filter (where {{ month_of('month') }} = 12) as fte_needed_december,
        any_value(fte_available) as fte_available
    from {{ ref('fct_projection_resources') }}
    group by scenario, {{ year_of('month') }}
),

final as (
    select
        money.scenario,
        money.year,
        money.product_id,
        cast(coalesce(money.expense, 0) as decimal(18, 2)) as expense,
        cast(coalesce(money.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(money.expense, 0) - coalesce(money.revenue, 0) as decimal(18, 2)) as net,
        cast(coalesce(money.prior_year_expense_appropriation, 0)
            - coalesce(money.prior_year_revenue_appropriation, 0) as decimal(18, 2))
            as prior_year_net_appropriation,
        cast(coalesce(money.expense, 0) - coalesce(money.revenue, 0)
            - coalesce(money.prior_year_expense_appropriation, 0)
            + coalesce(money.prior_year_revenue_appropriation, 0) as decimal(18, 2)) as net_change,
        {#- cast again: PostgreSQL's max/sum/any_value of a DECIMAL is a bare NUMERIC. -#}
        cast(resources.persons_december as decimal(12, 2)) as persons_december,
        cast(resources.asylblg_persons_december as decimal(12, 2)) as asylblg_persons_december,
        cast(resources.admissions as decimal(38, 2)) as admissions,
        cast(resources.gu_persons_max as decimal(12, 2)) as gu_persons_max,
        resources.gu_places_december,
        resources.gu_capacity_runs_out,
        cast(resources.fte_needed_december as decimal(8, 2)) as fte_needed_december,
        cast(resources.fte_available as decimal(8, 2)) as fte_available
    from money
    left join resources
        on money.product_id = 'GESAMT'
        and resources.scenario = money.scenario
        and resources.year = money.year
)

select * from final
