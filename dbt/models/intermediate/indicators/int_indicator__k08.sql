-- K08 Wartezeit bis Kursbeginn (Median): persons whose first course participation (as known
-- from the snapshots up to the month) starts in the month: median of days from Zuzugsdatum to
-- Eintritt, by the person's social space. numerator = the median, denominator = number of persons with a waiting time
-- (persons never in the stock have no Zuzugsdatum and are left out). Months with course data count.
with first_courses as (
    select * from {{ ref('int_person_first_course') }}
    where waiting_days is not null
),

course_months as (
    select distinct month from {{ ref('int_participation_states_monthly') }}
),

base as (
    select
        course_months.month,
        first_courses.social_space_id,
        first_courses.waiting_days
    from course_months
    left join first_courses on course_months.month = first_courses.month
),

grouped as (
    {{ grouped_by_social_space(median('waiting_days') ~ ' as median_days, count(waiting_days) as persons') }}
)

select
    month,
    'K08' as indicator_id,
    social_space_id,
    cast(coalesce(median_days, 0) as decimal(18, 2)) as numerator,
    cast(persons as decimal(18, 2)) as denominator,
    case when persons > 0 then cast(median_days as double precision) end as value
from grouped
