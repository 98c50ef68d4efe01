{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Month = month of Buchungsdatum; reversals are included with their negative amounts.
with payments as (
    select * from {{ ref('int_asylblg_payments') }}
    where {{ month_window() }}
),

final as (
    select
        month,
        product_id,
        account_id,
        benefit_type,
        social_space_id,
        cast(sum(amount) as decimal(18, 2)) as amount,
        cast(count(*) as bigint) as booking_lines
    from payments
    group by
        month,
        product_id,
        account_id,
        benefit_type,
        social_space_id
)

select * from final
