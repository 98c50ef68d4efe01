-- K11 Rechtskreiswechsel binnen 3 Monaten (domain.md section 3): the cohort of month M are the
-- persons of the persons file of M−3 whose status there is ERLAUBNIS with Status_seit in M−3
-- (persons who move in after their recognition are not in it); value = share of the cohort
-- still in the stock at the end of M with Rechtskreis SGB2 or KEINER, in %, by the social space
-- at the end of M. Only the files of M−3 and M are read, so later files never change a month.
-- Months without a persons file three months earlier have no value.
with persons as (
    select * from {{ ref('int_person_months') }}
),

stock_months as (
    select distinct month from persons
),

cohort as (
    select person_id, cast(month + interval '3 month' as date) as month
    from persons
    where residence_status = 'ERLAUBNIS'
      and date_trunc('month', status_since) = month
),

base as (
    select
        persons.month,
        persons.social_space_id,
        case when cohort.person_id is not null then 1 else 0 end as is_cohort,
        case when cohort.person_id is not null and persons.benefit_law in ('SGB2', 'KEINER')
            then 1 else 0 end as has_switched
    from persons
    inner join stock_months as earlier on earlier.month = persons.month - interval '3 month'
    left join cohort
        on cohort.person_id = persons.person_id
        and cohort.month = persons.month
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
