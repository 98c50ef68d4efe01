-- K10 Abbruchquote Kurse: participations ended ABGEBROCHEN ÷ participations ended (ABGESCHLOSSEN
-- or ABGEBROCHEN), Austritt in the 12 months ending with the month (state as of the month), in %,
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
        case when states.status = 'ABGEBROCHEN' then 1 else 0 end as is_dropout,
        case when states.status is not null then 1 else 0 end as is_ended
    from course_months
    left join states
        on course_months.month = states.month
        and states.status in ('ABGESCHLOSSEN', 'ABGEBROCHEN')
        and states.exit_date >= course_months.month - interval '11 month'
        and states.exit_date <= {{ month_end('course_months.month') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_dropout) as numerator, sum(is_ended) as denominator') }}
)

select
    month,
    'K10' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
