-- K04 Fälle je Vollzeitstelle Fallmanagement: persons with Fallmanagement = J ÷ FTE of the staff
-- unit named in the catalogue (indicators.staff_unit) in the month. City-wide only.
with persons as (
    select * from {{ ref('int_person_months') }}
),

staff_unit as (
    select staff_unit from {{ ref('indicators') }} where indicator_id = 'K04'
),

fte as (
    select staff_fte.month, sum(staff_fte.fte) as fte
    from {{ ref('staff_fte') }} as staff_fte
    inner join staff_unit on staff_fte.unit = staff_unit.staff_unit
    group by staff_fte.month
),

cases as (
    select month, {{ count_if("in_case_management") }} as cases
    from persons
    group by month
)

select
    cases.month,
    'K04' as indicator_id,
    'GESAMT' as social_space_id,
    cast(cases.cases as decimal(18, 2)) as numerator,
    cast(fte.fte as decimal(18, 2)) as denominator,
    {{ safe_ratio('cases.cases', 'fte.fte') }} as value
from cases
left join fte on cases.month = fte.month
