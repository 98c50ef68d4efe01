with source as (
    select * from {{ source('raw', 'teilnahmen') }}
),

renamed as (
    select
        period_month as snapshot_month,
        kurs_id as course_id,
        person_id,
        eintritt as entry_date,
        austritt as exit_date,
        status,
        ue_besucht as units_attended,
        pruefung as exam_result,
        pruefungsdatum as exam_date,
        load_id
    from source
)

select * from renamed
