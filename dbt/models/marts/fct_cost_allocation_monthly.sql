{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Ledger money per month x product x account allocated to social spaces and cost objects
-- (int_cost_allocation_monthly, docs/cost-accounting.md). Per month x product x account the
-- amounts add up to the ledger to the cent (data test assert_cost_allocation_conserves_ledger);
-- social_space_id `nicht_zurechenbar` holds what no key attributes.
select
    month,
    product_id,
    account_id,
    social_space_id,
    cost_object,
    {{ from_cents('sum(amount_cents)') }} as amount
from {{ ref('int_cost_allocation_monthly') }}
where {{ month_window() }}
group by month, product_id, account_id, social_space_id, cost_object
