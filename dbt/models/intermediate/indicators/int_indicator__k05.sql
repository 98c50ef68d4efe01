-- K05 AsylbLG-Aufwand je Leistungsberechtigtem: ledger expenses (account_kind 'expense') of the
-- catalogue's product in the month ÷ K01 (city-wide), in €. Months of the ledger count.
with ledger as (
    select * from {{ ref('int_ledger_monthly') }}
),

product as (
    select product_id from {{ ref('indicators') }} where indicator_id = 'K05'
),

ledger_months as (
    select distinct month from ledger
),

expenses as (
    select ledger.month, sum(ledger.amount) as expenses
    from ledger
    inner join product on ledger.product_id = product.product_id
    where ledger.account_kind = 'expense'
    group by ledger.month
),

caseload as (
    select month, {{ count_if("benefit_law = 'ASYLBLG'") }} as persons
    from {{ ref('int_person_months') }}
    group by month
)

select
    ledger_months.month,
    'K05' as indicator_id,
    'GESAMT' as social_space_id,
    cast(coalesce(expenses.expenses, 0) as decimal(18, 2)) as numerator,
    cast(caseload.persons as decimal(18, 2)) as denominator,
    {{ safe_ratio('coalesce(expenses.expenses, 0)', 'caseload.persons') }} as value
from ledger_months
left join expenses on ledger_months.month = expenses.month
left join caseload on ledger_months.month = caseload.month
