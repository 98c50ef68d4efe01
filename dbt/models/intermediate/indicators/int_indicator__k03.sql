-- K03 Neue Kursteilnahmen: participations (deduplicated across snapshots, state as of the month)
-- with Eintritt in the month, by the course's social space. A count.
with states as (
    select * from {{ ref('int_participation_states_monthly') }}
),

course_months as (
    select distinct month from states
),

base as (
    select
        course_months.month,
        states.course_social_space_id as social_space_id,
        case when states.course_id is not null then 1 else 0 end as is_new
    from course_months
    left join states
        on course_months.month = states.month
        and date_trunc('month', states.entry_date) = course_months.month
),

grouped as (
    {{ grouped_by_social_space('sum(is_new) as numerator') }}
)

select
    month,
    'K03' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(1 as decimal(18, 2)) as denominator,
    cast(numerator as double precision) as value
from grouped
