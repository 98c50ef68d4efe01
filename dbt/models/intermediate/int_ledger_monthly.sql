-- Ledger actuals per month x product x account (all cost centres), with the account kind from
-- the chart of accounts (accounts not in the reference count as 'other').
with ledger as (
    select * from {{ ref('stg_finance__ledger_actuals') }}
),

accounts as (
    select account_id, account_kind from {{ ref('accounts') }}
),

summed as (
    select month, product_id, account_id, sum(amount) as amount
    from ledger
    group by month, product_id, account_id
),

final as (
    select
        summed.month,
        {{ year_of('summed.month') }} as year,
        summed.product_id,
        summed.account_id,
        coalesce(accounts.account_kind, 'other') as account_kind,
        cast(summed.amount as decimal(18, 2)) as amount
    from summed
    left join accounts on summed.account_id = accounts.account_id
)

select * from final
