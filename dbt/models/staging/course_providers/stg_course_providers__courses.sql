with source as (
    select * from {{ source('raw', 'kurse') }}
),

renamed as (
    select
        period_month as snapshot_month,
        kurs_id as course_id,
        kursart as course_type,
        traeger as provider,
        sozialraum as social_space_id,
        beginn as start_date,
        ende as planned_end_date,
        ue_geplant as planned_units,
        plaetze as seats,
        cast(kosten_kommune as decimal(18, 2)) as municipal_cost,
        gemeinde as ags,
        load_id
    from source
)

select * from renamed
