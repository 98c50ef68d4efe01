{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Cost accounting (docs/cost-accounting.md): every ledger line of the month allocated to
-- receivers = social space x residence status x housing, in integer cents. Money is conserved:
-- per month x product x account the rows add up to the ledger to the cent; what cannot be
-- attributed is the member `nicht_zurechenbar`.
--   leistungen     ledger cells (month x product x account, all cost centres) that occur in the
--                  AsylbLG payments: each person-related payment line to the payment's social
--                  space (status and housing of the person that month); the rest of the cell
--                  (lines without person, differences to the ledger) is nicht_zurechenbar.
--   other lines    by the cost centre's key in the seed cost_centres (largest remainders,
--                  macro allocate_largest_remainder); key zuschlag last, weighted by the
--                  overhead rates on what the other keys attributed to each receiver.
with ledger as (
    select
        month,
        product_id,
        account_id,
        coalesce(cost_centre, '-') as cost_centre,
        {{ to_cents('sum(amount)') }} as total_cents
    from {{ ref('stg_finance__ledger_actuals') }}
    where {{ month_window() }}
    group by month, product_id, account_id, coalesce(cost_centre, '-')
),

persons as (
    select month, person_id, social_space_id, residence_status, housing, accommodation_id,
        in_case_management
    from {{ ref('int_person_months') }}
    where {{ month_window() }}
),

payments as (
    select month, product_id, account_id, person_id, social_space_id, amount
    from {{ ref('int_asylblg_payments') }}
    where {{ month_window() }}
),

ledger_cells as (
    select month, product_id, account_id, sum(total_cents) as total_cents
    from ledger
    group by month, product_id, account_id
),

payment_cells as (
    select distinct month, product_id, account_id from payments
),

-- Direct costs: person-related payment lines, receiver from the payment and the person.
direct as (
    select
        payments.month,
        payments.product_id,
        payments.account_id,
        '-' as cost_centre,
        'leistungen' as cost_object,
        payments.social_space_id,
        coalesce(persons.residence_status, 'unbekannt') as residence_status,
        coalesce(persons.housing, 'unbekannt') as housing,
        {{ to_cents('sum(payments.amount)') }} as amount_cents
    from payments
    inner join ledger_cells
        on ledger_cells.month = payments.month
        and ledger_cells.product_id = payments.product_id
        and ledger_cells.account_id = payments.account_id
    left join persons
        on persons.month = payments.month and persons.person_id = payments.person_id
    where payments.person_id is not null
    group by payments.month, payments.product_id, payments.account_id, payments.social_space_id,
        coalesce(persons.residence_status, 'unbekannt'), coalesce(persons.housing, 'unbekannt')
),

direct_rest as (
    select
        ledger_cells.month,
        ledger_cells.product_id,
        ledger_cells.account_id,
        '-' as cost_centre,
        'leistungen' as cost_object,
        'nicht_zurechenbar' as social_space_id,
        'nicht_zurechenbar' as residence_status,
        'nicht_zurechenbar' as housing,
        ledger_cells.total_cents - coalesce(sum(direct.amount_cents), 0) as amount_cents
    from ledger_cells
    inner join payment_cells
        on payment_cells.month = ledger_cells.month
        and payment_cells.product_id = ledger_cells.product_id
        and payment_cells.account_id = ledger_cells.account_id
    left join direct
        on direct.month = ledger_cells.month
        and direct.product_id = ledger_cells.product_id
        and direct.account_id = ledger_cells.account_id
    group by ledger_cells.month, ledger_cells.product_id, ledger_cells.account_id,
        ledger_cells.total_cents
),

cost_centres_ref as (
    select * from {{ ref('cost_centres') }}
),

-- Ledger lines outside the payment cells, with their cost centre's rule.
lines as (
    select
        ledger.*,
        coalesce(cost_centres.cost_object, 'gemeinkosten') as cost_object,
        coalesce(cost_centres.allocation_key, 'keine') as allocation_key,
        cost_centres.accommodation_id,
        cost_centres.staff_unit
    from ledger
    left join cost_centres_ref as cost_centres on cost_centres.cost_centre = ledger.cost_centre
    where not exists (
        select 1 from payment_cells
        where payment_cells.month = ledger.month
          and payment_cells.product_id = ledger.product_id
          and payment_cells.account_id = ledger.account_id
    )
),

-- Staff cost imputed as FTE x monthly rate (prices: PERSONNEL_COST_PER_FTE, the value of the
-- latest year up to the month's); the key distributes at most that much.
personnel_rates as (
    select year, value as monthly_cost_per_fte
    from {{ ref('prices') }}
    where parameter = 'PERSONNEL_COST_PER_FTE'
),

staff_cost as (
    select
        staff.unit,
        staff.month,
        cast(round(staff.fte * rates.monthly_cost_per_fte * 100) as {{ int128() }}) as imputed_cents
    from {{ ref('staff_fte') }} as staff
    inner join personnel_rates as rates
        on rates.year = (
            select max(r.year) from personnel_rates as r where r.year <= {{ year_of('staff.month') }}
        )
),

person_weights as (
    select month, accommodation_id, housing, in_case_management,
        social_space_id, residence_status, count(*) as persons
    from persons
    group by month, accommodation_id, housing, in_case_management,
        social_space_id, residence_status
),

course_weights as (
    select
        participations.snapshot_month as month,
        coalesce(courses.social_space_id, 'unbekannt') as social_space_id,
        coalesce(persons.residence_status, 'unbekannt') as residence_status,
        coalesce(persons.housing, 'unbekannt') as housing,
        count(*) as participations
    from {{ ref('stg_course_providers__participations') }} as participations
    left join {{ ref('stg_course_providers__courses') }} as courses
        on courses.snapshot_month = participations.snapshot_month
        and courses.course_id = participations.course_id
    left join persons
        on persons.month = participations.snapshot_month
        and persons.person_id = participations.person_id
    where {{ month_window('participations.snapshot_month') }}
    group by participations.snapshot_month, coalesce(courses.social_space_id, 'unbekannt'),
        coalesce(persons.residence_status, 'unbekannt'), coalesce(persons.housing, 'unbekannt')
),

key_weights as (
    select
        lines.month, lines.product_id, lines.account_id, lines.cost_centre, lines.cost_object,
        lines.total_cents,
        case
            when lines.allocation_key = 'keine' then 0
            when lines.allocation_key = 'fallmanagement' then
                case when lines.total_cents > 0
                    then least(lines.total_cents, coalesce(staff_cost.imputed_cents, 0))
                    else 0 end
            else lines.total_cents
        end as allocable_cents,
        coalesce(person_weights.social_space_id, course_weights.social_space_id)
            as social_space_id,
        coalesce(person_weights.residence_status, course_weights.residence_status)
            as residence_status,
        coalesce(person_weights.housing, course_weights.housing) as housing,
        coalesce(person_weights.persons, course_weights.participations) as weight
    from lines
    left join staff_cost
        on staff_cost.unit = lines.staff_unit and staff_cost.month = lines.month
    left join person_weights
        on person_weights.month = lines.month
        and (
            (lines.allocation_key = 'unterkunft'
                and person_weights.accommodation_id = lines.accommodation_id)
            or (lines.allocation_key = 'dezentral' and person_weights.housing = 'DEZENTRAL')
            or (lines.allocation_key = 'gu' and person_weights.housing = 'GU')
            or (lines.allocation_key = 'fallmanagement' and person_weights.in_case_management)
        )
    left join course_weights
        on course_weights.month = lines.month and lines.allocation_key = 'kursteilnahmen'
    where lines.allocation_key <> 'zuschlag'
),

receiver_weights as (
    select
        month, product_id, account_id, cost_centre, cost_object, total_cents, allocable_cents,
        social_space_id, residence_status, housing,
        sum(weight) as weight
    from key_weights
    group by month, product_id, account_id, cost_centre, cost_object, total_cents,
        allocable_cents, social_space_id, residence_status, housing
),

keyed as (
    {{ allocate_largest_remainder('receiver_weights') }}
),

attributed as (
    select * from direct
    union all
    select * from direct_rest where amount_cents <> 0
    union all
    select * from keyed
),

-- Overhead pool: weight = sum over cost types of rate x attributed cents (rate in 1/10,000).
overhead_weights as (
    select
        attributed.month,
        attributed.social_space_id,
        attributed.residence_status,
        attributed.housing,
        greatest(sum(attributed.amount_cents
            * cast(round(overhead_rates.rate * 10000) as {{ int128() }})), 0) as weight
    from attributed
    inner join {{ ref('overhead_rates') }} as overhead_rates
        on overhead_rates.cost_object = attributed.cost_object
    where attributed.social_space_id <> 'nicht_zurechenbar'
    group by attributed.month, attributed.social_space_id, attributed.residence_status,
        attributed.housing
),

pool_weights as (
    select
        lines.month, lines.product_id, lines.account_id, lines.cost_centre, lines.cost_object,
        lines.total_cents,
        lines.total_cents as allocable_cents,
        overhead_weights.social_space_id,
        overhead_weights.residence_status,
        overhead_weights.housing,
        overhead_weights.weight
    from lines
    left join overhead_weights on overhead_weights.month = lines.month
    where lines.allocation_key = 'zuschlag'
),

pooled as (
    {{ allocate_largest_remainder('pool_weights') }}
),

final as (
    select
        month,
        product_id,
        account_id,
        cast(cost_centre as varchar) as cost_centre,
        cast(cost_object as varchar) as cost_object,
        cast(social_space_id as varchar) as social_space_id,
        cast(residence_status as varchar) as residence_status,
        cast(housing as varchar) as housing,
        cast(amount_cents as {{ int128() }}) as amount_cents,
        {{ from_cents('amount_cents') }} as amount
    from (
        select * from attributed
        union all
        select * from pooled
    )
)

select * from final
