{{ config(materialized='view', schema='intermediate') }}
-- Inhabitants per municipality and year: the sum of its social spaces (a social space belongs to
-- one municipality), and the municipality's share of the deployment's inhabitants that year.
with inhabitants as (
    select * from {{ ref('social_space_inhabitants') }}
),

social_spaces as (
    select social_space_id, ags from {{ ref('social_spaces') }}
),

per_municipality as (
    select
        social_spaces.ags,
        inhabitants.year,
        sum(inhabitants.inhabitants) as inhabitants
    from inhabitants
    inner join social_spaces
        on inhabitants.social_space_id = social_spaces.social_space_id
    group by social_spaces.ags, inhabitants.year
),

final as (
    select
        ags,
        year,
        cast(inhabitants as bigint) as inhabitants,
        cast(inhabitants as double precision) / sum(inhabitants) over (partition by year)
            as population_share
    from per_municipality
)

select * from final
