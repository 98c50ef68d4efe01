-- K12 Unabhängig von Leistungen nach 24 Monaten: persons with Zuzugsdatum more than 24 months
-- before month end (Stichtag): share with Rechtskreis KEINER, in %.
with base as (
    select
        month,
        social_space_id,
        case when arrival_date < reference_date - interval '24 month' then 1 else 0 end
            as is_long_term,
        case when arrival_date < reference_date - interval '24 month' and benefit_law = 'KEINER'
            then 1 else 0 end as is_independent
    from {{ ref('int_person_months') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_independent) as numerator, sum(is_long_term) as denominator') }}
)

select
    month,
    'K12' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
