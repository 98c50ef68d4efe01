{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
with persons as (
    select * from {{ ref('int_person_months') }}
    where {{ month_window() }}
),

final as (
    select
        month,
        social_space_id,
        residence_status,
        benefit_law,
        benefit_form,
        housing,
        age_band,
        sex,
        cast(count(*) as bigint) as persons
    from persons
    group by
        month,
        social_space_id,
        residence_status,
        benefit_law,
        benefit_form,
        housing,
        age_band,
        sex
)

select * from final
