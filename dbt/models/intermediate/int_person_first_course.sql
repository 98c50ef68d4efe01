-- Per person: the first course participation over the whole history (earliest Eintritt of any
-- snapshot), with the person's Zuzugsdatum and social space from the persons snapshot of the
-- entry month (else the latest earlier one, else the earliest later one).
with participations as (
    select * from {{ ref('stg_raw__participations') }}
),

person_months as (
    select * from {{ ref('int_person_months') }}
),

first_entries as (
    select
        person_id,
        min(entry_date) as first_entry_date,
        arg_min(course_id, entry_date) as first_course_id
    from participations
    group by person_id
),

matched as (
    select
        first_entries.person_id,
        first_entries.first_entry_date,
        first_entries.first_course_id,
        cast(date_trunc('month', first_entries.first_entry_date) as date) as entry_month,
        person_months.arrival_date,
        person_months.social_space_id
    from first_entries
    left join person_months on first_entries.person_id = person_months.person_id
    qualify row_number() over (
        partition by first_entries.person_id
        order by
            person_months.month > date_trunc('month', first_entries.first_entry_date),
            abs(datediff('month', date_trunc('month', first_entries.first_entry_date),
                person_months.month))
    ) = 1
),

final as (
    select
        person_id,
        first_entry_date,
        first_course_id,
        entry_month,
        arrival_date,
        coalesce(social_space_id, 'unbekannt') as social_space_id,
        datediff('day', arrival_date, first_entry_date) as waiting_days
    from matched
)

select * from final
