-- K11 Rechtskreiswechsel binnen 3 Monaten: persons whose status became ERLAUBNIS (Status_seit)
-- in the month three months earlier and who are in this month's stock: share with Rechtskreis
-- SGB2 or KEINER at this month end, in %, by the social space at this month end.
with persons as (
    select * from {{ ref('int_person_months') }}
),

transitions as (
    select * from {{ ref('int_person_status_transitions') }}
),

base as (
    select
        persons.month,
        persons.social_space_id,
        case when transitions.recognition_month = persons.month - interval 3 month
            then 1 else 0 end as is_cohort,
        case when transitions.recognition_month = persons.month - interval 3 month
                and persons.benefit_law in ('SGB2', 'KEINER')
            then 1 else 0 end as has_switched
    from persons
    left join transitions on persons.person_id = transitions.person_id
),

grouped as (
    {{ grouped_by_social_space('sum(has_switched) as numerator, sum(is_cohort) as denominator') }}
)

select
    month,
    'K11' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
