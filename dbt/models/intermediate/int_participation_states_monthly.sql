{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month') }}
-- Participations deduplicated across the monthly snapshots: for every month M of the partition
-- window that has a course snapshot, each participation listed in the 12 snapshots up to M with
-- its state as of M (latest snapshot <= M). Twelve months are what the longest look-back (K09,
-- K10) needs; bounding it keeps a month's cost independent of the history (a participation ends
-- in a month in which it is still listed, so its final state is within the look-back).
-- Key of a participation: course, person, entry date. The person's social space is the one of the
-- latest persons snapshot <= M ('unbekannt' when the person never appeared in the stock); the
-- course's type and social space those of the latest course snapshot <= M. Only snapshots up to
-- M are read, so a later snapshot (a course moving to another social space) never changes M.
with snapshots as (
    select * from {{ ref('stg_course_providers__participations') }}
),

snapshot_months as (
    select month from (
        select snapshot_month as month from {{ ref('stg_course_providers__participations') }}
        union
        select snapshot_month as month from {{ ref('stg_course_providers__courses') }}
    )
    where {{ month_window('month') }}
),

course_snapshots as (
    select course_id, snapshot_month, course_type, social_space_id
    from {{ ref('stg_course_providers__courses') }}
),

person_months as (
    select person_id, month, social_space_id from {{ ref('int_person_months') }}
),

listed as (
    select
        snapshot_months.month,
        snapshots.course_id,
        snapshots.person_id,
        snapshots.entry_date,
        snapshots.exit_date,
        snapshots.status,
        snapshots.units_attended,
        snapshots.exam_result,
        snapshots.exam_date,
        snapshots.snapshot_month,
        snapshots.snapshot_month = snapshot_months.month as is_listed_in_month,
        row_number() over (
            partition by snapshot_months.month, snapshots.course_id, snapshots.person_id,
                snapshots.entry_date
            order by snapshots.snapshot_month desc
        ) as snapshot_rank
    from snapshot_months
    inner join snapshots
        on snapshots.snapshot_month <= snapshot_months.month
        and snapshots.snapshot_month > snapshot_months.month - interval '12 month'
),

states as (
    select
        month, course_id, person_id, entry_date, exit_date, status, units_attended, exam_result,
        exam_date, snapshot_month, is_listed_in_month
    from listed
    where snapshot_rank = 1
),

with_person as (
    select
        states.*,
        coalesce(person_months.social_space_id, 'unbekannt') as person_social_space_id
    from states
    {{ asof_left_join('person_months', 'states.person_id', 'person_id', 'states.month', 'month') }}
),

final as (
    select
        with_person.*,
        course_snapshots.course_type,
        course_snapshots.social_space_id as course_social_space_id
    from with_person
    {{ asof_left_join('course_snapshots', 'with_person.course_id', 'course_id',
        'with_person.month', 'snapshot_month') }}
)

select * from final
