-- K09 B1-Quote: participations with Pruefung B1 ÷ participations with Pruefung in (B1, A2,
-- UNTER_A2), Pruefungsdatum in the 12 months ending with the month (state as of the month), in %,
-- by the participant's social space.
with states as (
    select * from {{ ref('int_participation_states_monthly') }}
),

course_months as (
    select distinct month from states
),

base as (
    select
        course_months.month,
        states.person_social_space_id as social_space_id,
        case when states.exam_result = 'B1' then 1 else 0 end as is_b1,
        case when states.exam_result is not null then 1 else 0 end as is_exam
    from course_months
    left join states
        on course_months.month = states.month
        and states.exam_result in ('B1', 'A2', 'UNTER_A2')
        and states.exam_date >= course_months.month - interval '11 month'
        and states.exam_date <= {{ month_end('course_months.month') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_b1) as numerator, sum(is_exam) as denominator') }}
)

select
    month,
    'K09' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
