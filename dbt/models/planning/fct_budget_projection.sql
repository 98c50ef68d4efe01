-- Projected amounts per scenario, month, product and account from the last actual month
-- (int_planning_budget; how each line is driven: seed planning_drivers). Money DECIMAL(18,2).
with budget as (
    select * from {{ ref('int_planning_budget') }}
    where origin = (select max(origin) from {{ ref('int_planning_origins') }})
),

final as (
    select
        scenario,
        month,
        product_id,
        account_id,
        account_kind,
        amount
    from budget
)

select * from final
