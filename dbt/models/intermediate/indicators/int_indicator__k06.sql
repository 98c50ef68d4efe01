-- K06 Anteil dezentral oder privat wohnend: persons with Unterbringung DEZENTRAL or PRIVAT
-- ÷ persons, in %.
with base as (
    select
        month,
        social_space_id,
        case when housing in ('DEZENTRAL', 'PRIVAT') then 1 else 0 end as is_decentral,
        1 as is_person
    from {{ ref('int_person_months') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_decentral) as numerator, sum(is_person) as denominator') }}
)

select
    month,
    'K06' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
