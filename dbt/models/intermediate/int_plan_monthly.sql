-- The budget plan phased to months. Fortgeschriebener Ansatz = Ansatz + Nachtrag + Uebertragung
-- (missing = 0). The cumulative share of the year up to month m is a fraction
-- share_numerator / share_denominator:
--   LINEAR (or empty)  m / 12
--   Q                  (quarters begun) / 4   -- a quarter's share in its first month
--   JAN                1 / 1                  -- everything in January
--   'a|b|...|l'        sum of the first m shares, in units of 1e-9
-- plan_to_date = current appropriation x cumulative share, rounded to the cent (half away from
-- zero) in integer cents; plan_month = plan_to_date - plan_to_date of the previous month, so the
-- twelve months add up to the appropriation exactly.
with plan as (
    select * from {{ ref('stg_raw__budget_plan') }}
),

appropriations as (
    select
        year,
        product_id,
        account_id,
        coalesce(phasing_profile, 'LINEAR') as phasing_profile,
        original_appropriation,
        coalesce(supplementary, 0) as supplementary,
        coalesce(carried_over, 0) as carried_over,
        cast(original_appropriation + coalesce(supplementary, 0) + coalesce(carried_over, 0)
            as decimal(18, 2)) as current_appropriation
    from plan
),

months as (
    select month_of_year from range(1, 13) as months (month_of_year)
),

shares as (
    select
        appropriations.*,
        months.month_of_year,
        case
            when phasing_profile = 'LINEAR' then months.month_of_year
            when phasing_profile = 'Q' then (months.month_of_year + 2) // 3
            when phasing_profile = 'JAN' then 1
            else cast(list_sum(list_transform(
                string_split(phasing_profile, '|')[1:months.month_of_year],
                lambda share: cast(round(cast(trim(share) as decimal(18, 9)) * 1000000000) as hugeint)
            )) as hugeint)
        end as share_numerator,
        case
            when phasing_profile = 'LINEAR' then 12
            when phasing_profile = 'Q' then 4
            when phasing_profile = 'JAN' then 1
            else 1000000000
        end as share_denominator
    from appropriations
    cross join months
),

to_date as (
    select
        *,
        {{ round_div(to_cents('current_appropriation') ~ ' * share_numerator', 'share_denominator') }}
            as plan_to_date_cents
    from shares
),

final as (
    select
        make_date(year, month_of_year, 1) as month,
        year,
        month_of_year,
        product_id,
        account_id,
        phasing_profile,
        cast(original_appropriation as decimal(18, 2)) as original_appropriation,
        cast(supplementary as decimal(18, 2)) as supplementary,
        cast(carried_over as decimal(18, 2)) as carried_over,
        current_appropriation,
        share_numerator,
        share_denominator,
        {{ from_cents('plan_to_date_cents - coalesce(lag(plan_to_date_cents) over (
            partition by year, product_id, account_id order by month_of_year), 0)') }}
            as plan_month,
        {{ from_cents('plan_to_date_cents') }} as plan_to_date
    from to_date
)

select * from final
