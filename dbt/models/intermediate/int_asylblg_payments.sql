-- AsylbLG booking lines. Reversals stay as their own negative lines, so every sum nets them;
-- the flags show which lines reverse or were reversed. Unknown social spaces -> 'unbekannt'.
with payments as (
    select * from {{ ref('stg_case_software__asylblg_payments') }}
),

social_spaces as (
    select social_space_id from {{ ref('social_spaces') }}
),

reversed as (
    select distinct reverses_booking_id as booking_id
    from payments
    where reverses_booking_id is not null
),

final as (
    select
        payments.booking_id,
        payments.booking_date,
        payments.month,
        payments.person_id,
        payments.benefit_type,
        payments.product_id,
        payments.account_id,
        payments.amount,
        coalesce(social_spaces.social_space_id, 'unbekannt') as social_space_id,
        payments.reverses_booking_id is not null as is_reversal,
        reversed.booking_id is not null as is_reversed
    from payments
    left join social_spaces on payments.social_space_id = social_spaces.social_space_id
    left join reversed on payments.booking_id = reversed.booking_id
)

select * from final
