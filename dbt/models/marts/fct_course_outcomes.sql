{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Per month x course type x social space of the course, from the participation states as of the
-- month: active = listed in the month's snapshot; new = Eintritt in the month; completions and
-- dropouts by Austritt in the month; exams by Pruefungsdatum in the month.
with states as (
    select * from {{ ref('int_participation_states_monthly') }}
    where {{ month_window() }}
),

flags as (
    select
        month,
        coalesce(course_type, 'unbekannt') as course_type,
        coalesce(course_social_space_id, 'unbekannt') as social_space_id,
        is_listed_in_month as is_active,
        date_trunc('month', entry_date) = month as is_new,
        date_trunc('month', exit_date) = month and status = 'ABGESCHLOSSEN' as is_completion,
        date_trunc('month', exit_date) = month and status = 'ABGEBROCHEN' as is_dropout,
        date_trunc('month', exam_date) = month and exam_result in ('B1', 'A2', 'UNTER_A2')
            as is_exam,
        exam_result
    from states
),

final as (
    select
        month,
        course_type,
        social_space_id,
        cast({{ count_if("is_active") }} as bigint) as active_participations,
        cast({{ count_if("is_new") }} as bigint) as new_participations,
        cast({{ count_if("is_completion") }} as bigint) as completions,
        cast({{ count_if("is_dropout") }} as bigint) as dropouts,
        cast({{ count_if("is_exam") }} as bigint) as exams_taken,
        cast({{ count_if("is_exam and exam_result = 'B1'") }} as bigint) as exams_b1,
        cast({{ count_if("is_exam and exam_result = 'A2'") }} as bigint) as exams_a2,
        cast({{ count_if("is_exam and exam_result = 'UNTER_A2'") }} as bigint) as exams_below_a2
    from flags
    group by month, course_type, social_space_id
    having {{ count_if("is_active or is_new or is_completion or is_dropout or is_exam") }} > 0
)

select * from final
