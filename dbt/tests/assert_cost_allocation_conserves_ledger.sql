{{ config(meta={"dagster": {"ref": {"name": "fct_cost_allocation_monthly"}}}) }}
-- Money is conserved: per month x product x account of the run window, the cost allocation
-- adds up to the ledger (all cost centres) to the cent. Returns the cells that differ.
with ledger as (
    select month, product_id, account_id, sum(amount) as amount
    from {{ ref('stg_finance__ledger_actuals') }}
    where {{ month_window() }}
    group by month, product_id, account_id
),

allocated as (
    select month, product_id, account_id, sum(amount) as amount
    from {{ ref('fct_cost_allocation_monthly') }}
    where {{ month_window() }}
    group by month, product_id, account_id
)

select
    coalesce(ledger.month, allocated.month) as month,
    coalesce(ledger.product_id, allocated.product_id) as product_id,
    coalesce(ledger.account_id, allocated.account_id) as account_id,
    ledger.amount as ledger_amount,
    allocated.amount as allocated_amount
from ledger
full outer join allocated
    on allocated.month = ledger.month
    and allocated.product_id = ledger.product_id
    and allocated.account_id = ledger.account_id
where coalesce(ledger.amount, 0) <> coalesce(allocated.amount, 0)
