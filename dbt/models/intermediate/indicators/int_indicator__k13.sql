-- K13 Zuschussbedarf je Einwohner: (expenses − revenues) of the Teilhaushalt, year to date
-- ÷ inhabitants of the city (sum over social spaces, latest reference year <= the month's year),
-- in €.
with ytd as (
    select * from {{ ref('int_budget_unit_ytd') }}
),

inhabitants as (
    select year, sum(inhabitants) as inhabitants
    from {{ ref('social_space_inhabitants') }}
    group by year
),

ranked as (
    select
        ytd.month,
        ytd.expenses_to_date - ytd.revenues_to_date as net_burden,
        inhabitants.inhabitants,
        row_number() over (partition by ytd.month order by inhabitants.year desc) as year_rank
    from ytd
    left join inhabitants on inhabitants.year <= {{ year_of('ytd.month') }}
),

matched as (
    select month, net_burden, inhabitants from ranked where year_rank = 1
)

select
    month,
    'K13' as indicator_id,
    'GESAMT' as social_space_id,
    cast(net_burden as decimal(18, 2)) as numerator,
    cast(inhabitants as decimal(18, 2)) as denominator,
    {{ safe_ratio('net_burden', 'inhabitants') }} as value
from matched
