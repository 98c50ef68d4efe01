with source as (
    select * from {{ source('raw', 'asylblg_zahlungen') }}
),

renamed as (
    select
        buchungs_id as booking_id,
        buchungsdatum as booking_date,
        cast(date_trunc('month', buchungsdatum) as date) as month,
        leistung_von as benefit_from,
        leistung_bis as benefit_to,
        person_id,
        fall_id as case_id,
        leistungsart as benefit_type,
        produkt as product_id,
        sachkonto as account_id,
        cast(betrag as decimal(18, 2)) as amount,
        storno_von as reverses_booking_id,
        sozialraum as social_space_id,
        load_id
    from source
)

select * from renamed
