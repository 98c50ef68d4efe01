-- One row per person and month of the persons stock. A missing or unknown social-space key
-- becomes the member `unbekannt` (its share is itself a data-quality figure).
-- ags: the municipality of the persons file (column Gemeinde, required in a district), else
-- that of the person's social space (a social space belongs to one municipality).
with persons as (
    select * from {{ ref('stg_case_software__persons') }}
),

social_spaces as (
    select social_space_id, ags from {{ ref('social_spaces') }}
),

final as (
    select
        persons.month,
        persons.reference_date,
        persons.person_id,
        persons.case_id,
        coalesce(persons.age_band, 'unbekannt') as age_band,
        persons.sex,
        persons.residence_status,
        persons.status_since,
        persons.arrival_date,
        persons.benefit_law,
        persons.benefit_form,
        persons.housing,
        persons.accommodation_id,
        coalesce(social_spaces.social_space_id, 'unbekannt') as social_space_id,
        coalesce(persons.in_case_management, false) as in_case_management,
        coalesce(persons.ags, social_spaces.ags) as ags
    from persons
    left join social_spaces
        on persons.social_space_id = social_spaces.social_space_id
)

select * from final
