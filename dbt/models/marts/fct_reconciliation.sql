{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Every month x product x account occurring in the AsylbLG payments against the ledger (all cost
-- centres); difference = payments - ledger, exact to the cent.
with payments as (
    select month, product_id, account_id, sum(amount) as payments_amount
    from {{ ref('int_asylblg_payments') }}
    where {{ month_window() }}
    group by month, product_id, account_id
),

ledger as (
    select month, product_id, account_id, amount
    from {{ ref('int_ledger_monthly') }}
    where {{ month_window() }}
),

final as (
    select
        payments.month,
        payments.product_id,
        payments.account_id,
        cast(payments.payments_amount as decimal(18, 2)) as payments_amount,
        cast(coalesce(ledger.amount, 0) as decimal(18, 2)) as ledger_amount,
        cast(payments.payments_amount - coalesce(ledger.amount, 0) as decimal(18, 2)) as difference,
        payments.payments_amount = coalesce(ledger.amount, 0) as is_reconciled
    from payments
    left join ledger
        on payments.month = ledger.month
        and payments.product_id = ledger.product_id
        and payments.account_id = ledger.account_id
)

select * from final
