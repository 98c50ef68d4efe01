-- K02 Belegungsquote GU: persons with Unterbringung GU ÷ GU places valid at month end, in %.
-- Places per social space from the accommodation reference (kind GU, valid_from <= month end,
-- valid_to empty or >= month end); only months of the persons stock count.
with persons as (
    select * from {{ ref('int_person_months') }}
),

accommodation as (
    select * from {{ ref('accommodation') }}
),

stock_months as (
    select distinct month from persons
),

places as (
    select
        stock_months.month,
        accommodation.social_space_id,
        0 as persons_in_gu,
        accommodation.capacity as places
    from stock_months
    inner join accommodation
        on accommodation.kind = 'GU'
        and {{ accommodation_valid_on(month_end('stock_months.month')) }}
),

base as (
    select
        month,
        social_space_id,
        case when housing = 'GU' then 1 else 0 end as persons_in_gu,
        0 as places
    from persons
    union all
    select * from places
),

grouped as (
    {{ grouped_by_social_space('sum(persons_in_gu) as numerator, sum(places) as denominator') }}
)

select
    month,
    'K02' as indicator_id,
    social_space_id,
    cast(numerator as decimal(18, 2)) as numerator,
    cast(denominator as decimal(18, 2)) as denominator,
    {{ safe_ratio('numerator', 'denominator', 100) }} as value
from grouped
