-- Projected persons per scenario, month and state from the last actual month,
-- planning_horizon_months ahead (int_planning_projection). Persons are expected values,
-- rounded to 2 decimals.
with projection as (
    select * from {{ ref('int_planning_projection') }}
    where origin = (select max(origin) from {{ ref('int_planning_origins') }})
      and not is_arrivals
),

final as (
    select
        origin as last_actual_month,
        scenario,
        month,
        cast(split_part(state_key, '|', 1) as varchar) as social_space_id,
        cast(split_part(state_key, '|', 2) as varchar) as residence_status,
        cast(split_part(state_key, '|', 3) as varchar) as benefit_law,
        cast(split_part(state_key, '|', 4) as varchar) as housing,
        cast({{ round_double('persons', 2) }} as decimal(12, 2)) as persons
    from projection
)

select * from final
