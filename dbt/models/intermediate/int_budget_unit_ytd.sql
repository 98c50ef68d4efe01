-- Year-to-date expenses and revenues of the Teilhaushalt (the products of
-- int_budget_unit_products) per ledger month; input of K13 and K14.
with ledger as (
    select * from {{ ref('int_ledger_monthly') }}
),

products as (
    select product_id from {{ ref('int_budget_unit_products') }}
),

ledger_months as (
    select distinct month from ledger
),

monthly as (
    select
        ledger.month,
        sum(case when ledger.account_kind = 'expense' then ledger.amount else 0 end) as expenses,
        sum(case when ledger.account_kind = 'revenue' then ledger.amount else 0 end) as revenues
    from ledger
    inner join products on ledger.product_id = products.product_id
    group by ledger.month
),

final as (
    select
        ledger_months.month,
        cast(coalesce(sum(monthly.expenses), 0) as decimal(18, 2)) as expenses_to_date,
        cast(coalesce(sum(monthly.revenues), 0) as decimal(18, 2)) as revenues_to_date
    from ledger_months
    left join monthly
        on {{ year_of('monthly.month') }} = {{ year_of('ledger_months.month') }}
        and monthly.month <= ledger_months.month
    group by ledger_months.month
)

select * from final
