-- K14 Deckungsgrad durch Erstattungen: revenues ÷ expenses of the Teilhaushalt, year to date, in %.
with ytd as (
    select * from {{ ref('int_budget_unit_ytd') }}
)

select
    month,
    'K14' as indicator_id,
    'GESAMT' as social_space_id,
    revenues_to_date as numerator,
    expenses_to_date as denominator,
    {{ safe_ratio('revenues_to_date', 'expenses_to_date', 100) }} as value
from ytd
