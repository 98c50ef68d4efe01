-- The budget plan phased to months. Fortgeschriebener Ansatz = Ansatz + Nachtrag + Uebertragung
-- (missing = 0). Each month m of the profile has an integer weight w(m); W = sum of the weights:
--   LINEAR (or empty)  1 in every month                    (W = 12)
--   Q                  1 in January, April, July, October  (W = 4)
--   JAN                1 in January                        (W = 1)
--   'a|b|...|l'        the shares in units of 1e-9; shares that do not add up to 1 are
--                      normalised by dividing by their sum W
-- plan_month: the appropriation in integer cents split by largest remainders, so the twelve
-- months add up to the appropriation to the cent: every month gets floor(cents x w / W); the
-- cents left over go one each to the months with the largest remainders, ties to the earlier
-- month (100.00 LINEAR: 8.34 in January to April, 8.33 in May to December). Negative
-- appropriations are split by their absolute value. plan_to_date = sum of plan_month so far;
-- share_numerator / share_denominator = cumulative weight / W (the plan's share of the year).
with plan as (
    select * from {{ ref('stg_finance__budget_plan') }}
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
    select month_of_year from generate_series(1, 12) as months (month_of_year)
),

weights as (
    select
        appropriations.*,
        months.month_of_year,
        case
            when phasing_profile = 'LINEAR' then 1
            when phasing_profile = 'Q' then case when months.month_of_year % 3 = 1 then 1 else 0 end
            when phasing_profile = 'JAN' then case when months.month_of_year = 1 then 1 else 0 end
            else cast(round(cast(
                trim({{ split_item('phasing_profile', "'|'", 'months.month_of_year') }})
                as decimal(38, 9)) * 1000000000) as {{ int128() }})
        end as weight
    from appropriations
    cross join months
),

split as (
    select
        *,
        sum(weight) over line as total_weight,
        {{ int_div('abs(' ~ to_cents('current_appropriation') ~ ') * weight', 'sum(weight) over line') }}
            as floor_cents,
        abs({{ to_cents('current_appropriation') }}) * weight % sum(weight) over line
            as remainder
    from weights
    window line as (partition by year, product_id, account_id)
),

ranked as (
    select
        *,
        abs({{ to_cents('current_appropriation') }}) - sum(floor_cents) over line as cents_left,
        row_number() over (
            partition by year, product_id, account_id order by remainder desc, month_of_year
        ) as remainder_rank
    from split
    window line as (partition by year, product_id, account_id)
),

monthly as (
    select
        *,
        sign({{ to_cents('current_appropriation') }})
            * (floor_cents + case when remainder_rank <= cents_left then 1 else 0 end)
            as plan_month_cents
    from ranked
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
        sum(weight) over to_date as share_numerator,
        total_weight as share_denominator,
        {{ from_cents('plan_month_cents') }} as plan_month,
        {{ from_cents('sum(plan_month_cents) over to_date') }} as plan_to_date
    from monthly
    window to_date as (partition by year, product_id, account_id order by month_of_year)
)

select * from final
