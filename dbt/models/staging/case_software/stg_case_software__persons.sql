with source as (
    select * from {{ source('raw', 'personen') }}
),

renamed as (
    select
        cast(date_trunc('month', stichtag) as date) as month,
        stichtag as reference_date,
        person_id,
        fall_id as case_id,
        geburtsjahr as birth_year,
        altersgruppe as age_band,
        geschlecht as sex,
        staatsangehoerigkeit as nationality,
        aufenthaltsstatus as residence_status,
        status_seit as status_since,
        zuzugsdatum as arrival_date,
        rechtskreis as benefit_law,
        leistungsform as benefit_form,
        unterbringung as housing,
        unterkunft_id as accommodation_id,
        sozialraum as social_space_id,
        fallmanagement as in_case_management,
        fallmanager_id as case_manager_id,
        gemeinde as ags,
        load_id
    from source
)

select * from renamed
