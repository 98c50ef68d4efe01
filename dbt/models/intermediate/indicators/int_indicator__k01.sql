-- K01 Leistungsberechtigte nach AsylbLG: persons with Rechtskreis ASYLBLG at month end.
-- A count: denominator 1, value = numerator.
with base as (
    select
        month,
        social_space_id,
        case when benefit_law = 'ASYLBLG' then 1 else 0 end as is_counted
    from {{ ref('int_person_months') }}
),

grouped as (
    {{ grouped_by_social_space('sum(is_counted) as numerator') }}
)

select
    month,
    'K01' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(1 as decimal(18, 2)) as denominator,
    cast(numerator as double precision) as value
from grouped
