-- K07 Anteil länger als 12 Monate in GU: persons in GU whose Zuzugsdatum is more than 12 months
-- before month end (Stichtag) ÷ persons in GU, in %. Exactly 12 months is not "more than".
with base as (
    select
        month,
        social_space_id,
        case when housing = 'GU' and arrival_date < reference_date - interval '12 month'
            then 1 else 0 end as is_long_stay,
        case when housing = 'GU' then 1 else 0 end as is_in_gu
    from {{ ref('int_person_months') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_long_stay) as numerator, sum(is_in_gu) as denominator') }}
)

select
    month,
    'K07' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
