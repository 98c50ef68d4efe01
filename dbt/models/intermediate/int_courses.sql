-- One row per course: its latest snapshot (social space and type of the course).
with courses as (
    select * from {{ ref('stg_raw__courses') }}
),

final as (
    select
        course_id,
        course_type,
        provider,
        social_space_id,
        start_date,
        planned_end_date,
        planned_units,
        seats
    from courses
    qualify row_number() over (partition by course_id order by snapshot_month desc) = 1
)

select * from final
