-- The person-month history as the projection sees it: one row per person and month with the
-- projection's state (social space × residence status × benefit law × housing) as one key.
with persons as (
    select * from {{ ref('int_person_months') }}
),

final as (
    select
        month,
        person_id,
        case_id,
        age_band,
        benefit_form,
        in_case_management,
        social_space_id,
        coalesce(residence_status, 'unbekannt') as residence_status,
        coalesce(benefit_law, 'unbekannt') as benefit_law,
        coalesce(housing, 'unbekannt') as housing,
        cast(concat_ws('|', social_space_id, coalesce(residence_status, 'unbekannt'),
            coalesce(benefit_law, 'unbekannt'), coalesce(housing, 'unbekannt')) as varchar)
            as state_key
    from persons
)

select * from final
