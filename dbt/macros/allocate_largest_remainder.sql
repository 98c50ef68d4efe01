{#- Allocate money units by integer weights, exact to the cent (largest remainders).

    `relation` has one row per unit and receiver: the unit columns month, product_id,
    account_id, cost_centre, cost_object; total_cents (the unit's ledger amount); allocable_cents
    (the part the key may distribute, <= total_cents); the receiver columns social_space_id,
    residence_status, housing; and weight (integer >= 0; null for a unit without receivers).
    Every receiver gets floor(|allocable| x weight / W) cents (W = the unit's weight sum); the
    cents left over go one each to the largest remainders, ties by receiver key (byte order on
    every engine: macro binary_text). What the key
    cannot place (no weight, or total − allocable) goes to the member `nicht_zurechenbar`, so
    the rows of a unit add up to total_cents exactly. Negative amounts are split by their
    absolute value, like the plan phasing (int_plan_monthly). -#}
{% macro allocate_largest_remainder(relation) -%}
    with weighted as (
        select *, sum(weight) over unit as total_weight
        from {{ relation }}
        where weight > 0
        window unit as (partition by month, product_id, account_id, cost_centre, cost_object)
    ),

    split as (
        select
            *,
            {{ int_div('abs(cast(allocable_cents as ' ~ int128() ~ ')) * weight', 'total_weight') }}
                as floor_cents,
            abs(cast(allocable_cents as {{ int128() }})) * weight % total_weight as remainder
        from weighted
    ),

    ranked as (
        select
            *,
            abs(allocable_cents) - sum(floor_cents) over unit as cents_left,
            row_number() over (
                partition by month, product_id, account_id, cost_centre, cost_object
                order by remainder desc, {{ binary_text('social_space_id') }},
                    {{ binary_text('residence_status') }}, {{ binary_text('housing') }}
            ) as remainder_rank
        from split
        window unit as (partition by month, product_id, account_id, cost_centre, cost_object)
    ),

    allocated as (
        select
            month, product_id, account_id, cost_centre, cost_object,
            social_space_id, residence_status, housing,
            sign(allocable_cents)
                * (floor_cents + case when remainder_rank <= cents_left then 1 else 0 end)
                as amount_cents
        from ranked
    ),

    units as (
        select distinct month, product_id, account_id, cost_centre, cost_object, total_cents
        from {{ relation }}
    ),

    unallocated as (
        select
            units.month, units.product_id, units.account_id, units.cost_centre, units.cost_object,
            'nicht_zurechenbar' as social_space_id,
            'nicht_zurechenbar' as residence_status,
            'nicht_zurechenbar' as housing,
            units.total_cents - coalesce(sum(allocated.amount_cents), 0) as amount_cents
        from units
        left join allocated
            on allocated.month = units.month
            and allocated.product_id = units.product_id
            and allocated.account_id = units.account_id
            and allocated.cost_centre = units.cost_centre
            and allocated.cost_object = units.cost_object
        group by units.month, units.product_id, units.account_id, units.cost_centre,
            units.cost_object, units.total_cents
    )

    select * from allocated
    union all
    select * from unallocated where amount_cents <> 0
{%- endmacro %}
