{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Allocation quota (Aufnahmequote) per municipality and month: persons in
-- Anschlussunterbringung (Unterbringung DEZENTRAL: flats provided by the municipality) against
-- the municipality's share of the district, by its share of the inhabitants.
--   quota_target      = district persons in AU × population share (stock, rounded to 0.01)
--   balance           = persons_au − quota_target (> 0 over-, < 0 under-fulfilled this month)
--   allocated         = persons in AU in the municipality this month who were not in AU in the
--                       same municipality the month before; in the first data month the whole
--                       stock (opening allocation: the history before the data is unknown)
--   allocation_target = district allocated × population share (rounded to 0.01)
--   running_balance   = sum of (allocated − allocation_target) up to the month: the over/under-
--                       fulfilment since the first data month (it opens with that month's balance)
--   payment_actual / payment_plan = allocated / allocation_target × the district's per-person
--                       payment of the year (seed allocation_payment_rates); 0 in the opening
--                       month, whose allocations were paid before the data starts.
-- ags = 'GESAMT': the district, the sums of the municipalities (targets and balances rounded per
-- municipality, so the district's balance is the sum of the printed ones, close to 0).
-- Population share: inhabitants of the latest seed year not after the month's year (the earliest
-- seed year for months before it).
-- Incremental per month: a run recomputes every month from its window's first month to the last
-- data month (a correction of an earlier month changes every later running balance) and carries
-- the running balance of the month before from the table itself; the normal run (the newest
-- month) computes one month. A full build starts at the first data month.
{%- set start = run_window()[0] if is_incremental() else none %}
with all_months as (
    select month from {{ ref('int_months') }}
),

months as (
    select month from all_months
    {% if start %}where month >= date '{{ start }}'{% endif %}
),

-- The running balance carried into the first computed month: 0 at the first data month.
carried as (
    {%- if start %}
    select ags, running_balance
    from {{ this }}
    where month = {{ add_months("date '" ~ start ~ "'", -1) }} and ags != 'GESAMT'
    {%- else %}
    select cast(null as varchar) as ags, cast(0 as decimal(18, 2)) as running_balance
    where false
    {%- endif %}
),

municipalities as (
    select ags from {{ ref('municipalities') }}
),

population as (
    select * from {{ ref('int_municipality_population') }}
),

rates as (
    select year, amount_per_person from {{ ref('allocation_payment_rates') }}
),

persons_au as (
    select month, person_id, ags
    from {{ ref('int_person_months') }}
    where housing = 'DEZENTRAL' and ags is not null
    {%- if start %}
        and month >= {{ add_months("date '" ~ start ~ "'", -1) }}
    {%- endif %}
),

stock as (
    select month, ags, count(*) as persons_au
    from persons_au
    where month in (select month from months)
    group by month, ags
),

allocations as (
    select current_month.month, current_month.ags, count(*) as allocated
    from persons_au as current_month
    left join persons_au as previous_month
        on previous_month.person_id = current_month.person_id
        and previous_month.ags = current_month.ags
        and previous_month.month = {{ add_months('current_month.month', -1) }}
    where previous_month.person_id is null
        and current_month.month in (select month from months)
    group by current_month.month, current_month.ags
),

population_years as (
    select
        months.month,
        coalesce(
            max(case when population.year <= {{ year_of('months.month') }}
                then population.year end),
            min(population.year)
        ) as year
    from months
    cross join (select distinct year from population) as population
    group by months.month
),

spine as (
    select
        months.month,
        municipalities.ags,
        months.month = (select min(month) from all_months) as is_opening_month
    from months
    cross join municipalities
),

joined as (
    select
        spine.month,
        spine.ags,
        spine.is_opening_month,
        population.inhabitants,
        population.population_share,
        coalesce(stock.persons_au, 0) as persons_au,
        coalesce(allocations.allocated, 0) as allocated,
        rates.amount_per_person
    from spine
    left join stock
        on stock.month = spine.month and stock.ags = spine.ags
    left join allocations
        on allocations.month = spine.month and allocations.ags = spine.ags
    left join population_years
        on population_years.month = spine.month
    left join population
        on population.ags = spine.ags and population.year = population_years.year
    left join rates
        on rates.year = {{ year_of('spine.month') }}
),

targets as (
    select
        *,
        -- round() of a DECIMAL: PostgreSQL has no round(double precision, integer)
        cast(round(cast(sum(persons_au) over (partition by month) * population_share
            as decimal(38, 9)), 2) as decimal(18, 2)) as quota_target,
        cast(round(cast(sum(allocated) over (partition by month) * population_share
            as decimal(38, 9)), 2) as decimal(18, 2)) as allocation_target
    from joined
),

municipal as (
    select
        month,
        cast(targets.ags as varchar) as ags,
        cast(inhabitants as bigint) as inhabitants,
        cast(population_share as double precision) as population_share,
        cast(persons_au as bigint) as persons_au,
        quota_target,
        cast(persons_au - quota_target as decimal(18, 2)) as balance,
        cast(allocated as bigint) as allocated,
        allocation_target,
        cast(coalesce(carried.running_balance, 0) + sum(allocated - allocation_target) over (
            partition by targets.ags order by month rows between unbounded preceding and current row
        ) as decimal(18, 2)) as running_balance,
        cast(case when is_opening_month then 0 else allocated * amount_per_person end
            as decimal(18, 2)) as payment_actual,
        cast(case when is_opening_month then 0
            else round(allocation_target * amount_per_person, 2) end
            as decimal(18, 2)) as payment_plan
    from targets
    left join carried on carried.ags = targets.ags
),

district as (
    select
        month,
        'GESAMT' as ags,
        cast(sum(inhabitants) as bigint) as inhabitants,
        cast(sum(population_share) as double precision) as population_share,
        cast(sum(persons_au) as bigint) as persons_au,
        cast(sum(quota_target) as decimal(18, 2)) as quota_target,
        cast(sum(balance) as decimal(18, 2)) as balance,
        cast(sum(allocated) as bigint) as allocated,
        cast(sum(allocation_target) as decimal(18, 2)) as allocation_target,
        cast(sum(running_balance) as decimal(18, 2)) as running_balance,
        cast(sum(payment_actual) as decimal(18, 2)) as payment_actual,
        cast(sum(payment_plan) as decimal(18, 2)) as payment_plan
    from municipal
    group by month
),

final as (
    select * from municipal
    union all
    select * from district
)

select * from final
