{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Cost of results per year x social space (GESAMT = the city), year to date as of each month
-- (the year's figure = its December, or its last month with data): the expenses the cost
-- accounting attributed from January up to the month (int_cost_allocation_monthly, expense
-- accounts, without nicht_zurechenbar; the city = all social spaces incl. unbekannt), divided by
--   independent_persons  K12's numerator in the month (arrived > 24 months ago, Rechtskreis
--                        KEINER)
--   b1_certificates      exams with result B1 dated January up to the month
--                        (fct_course_outcomes; by the course's social space)
--   moves_to_flat        persons in a GU at one month end and in a flat (DEZENTRAL or PRIVAT) at
--                        the next, that next month January up to the month (social space after
--                        the move)
-- Internal: counts of persons per social space, unsuppressed.
with months as (
    select month from {{ ref('int_months') }}
    where {{ month_window() }}
),

costs as (
    select months.month, allocation.social_space_id, sum(allocation.amount_cents) as cost_cents
    from months
    inner join {{ ref('int_cost_allocation_monthly') }} as allocation
        on allocation.month <= months.month
        and allocation.month >= date_trunc('year', months.month)
    inner join {{ ref('accounts') }} as accounts
        on accounts.account_id = allocation.account_id and accounts.account_kind = 'expense'
    where allocation.social_space_id <> 'nicht_zurechenbar'
    group by months.month, allocation.social_space_id
),

independent as (
    select
        indicator_values.month,
        indicator_values.social_space_id,
        cast(coalesce(indicator_values.numerator, 0) as bigint) as persons
    from {{ ref('fct_indicator_values') }} as indicator_values
    where {{ month_window('indicator_values.month') }}
      and indicator_values.indicator_id = 'K12'
      and indicator_values.social_space_id <> 'GESAMT'
      and indicator_values.numerator > 0
),

b1 as (
    select months.month, outcomes.social_space_id, sum(outcomes.exams_b1) as certificates
    from months
    inner join {{ ref('fct_course_outcomes') }} as outcomes
        on outcomes.month <= months.month
        and outcomes.month >= date_trunc('year', months.month)
    group by months.month, outcomes.social_space_id
    having sum(outcomes.exams_b1) > 0
),

person_months as (
    select person_id, month, housing, social_space_id
    from {{ ref('int_person_months') }}
    where month >= (select date_trunc('year', min(month)) - interval '1 month' from months)
      and month <= (select max(month) from months)
),

moves as (
    select months.month, after.social_space_id, count(*) as moves
    from months
    inner join person_months as after
        on after.month <= months.month
        and after.month >= date_trunc('year', months.month)
    inner join person_months as before
        on before.person_id = after.person_id
        and before.month = after.month - interval '1 month'
    where before.housing = 'GU'
      and after.housing in ('DEZENTRAL', 'PRIVAT')
    group by months.month, after.social_space_id
),

per_space as (
    select month, social_space_id from costs
    union
    select month, social_space_id from independent
    union
    select month, social_space_id from b1
    union
    select month, social_space_id from moves
),

base as (
    select
        per_space.month,
        per_space.social_space_id,
        coalesce(costs.cost_cents, 0) as cost_cents,
        coalesce(independent.persons, 0) as independent_persons,
        coalesce(b1.certificates, 0) as b1_certificates,
        coalesce(moves.moves, 0) as moves_to_flat
    from per_space
    left join costs
        on costs.month = per_space.month and costs.social_space_id = per_space.social_space_id
    left join independent
        on independent.month = per_space.month
        and independent.social_space_id = per_space.social_space_id
    left join b1 on b1.month = per_space.month and b1.social_space_id = per_space.social_space_id
    left join moves
        on moves.month = per_space.month and moves.social_space_id = per_space.social_space_id
),

grouped as (
    select
        month,
        case when grouping(social_space_id) = 1 then 'GESAMT' else social_space_id end
            as social_space_id,
        sum(cost_cents) as cost_cents,
        sum(independent_persons) as independent_persons,
        sum(b1_certificates) as b1_certificates,
        sum(moves_to_flat) as moves_to_flat
    from base
    group by grouping sets ((month, social_space_id), (month))
),

final as (
    select
        month,
        cast({{ year_of('month') }} as integer) as year,
        social_space_id,
        {{ from_cents('cost_cents') }} as cost,
        cast(independent_persons as bigint) as independent_persons,
        cast(b1_certificates as bigint) as b1_certificates,
        cast(moves_to_flat as bigint) as moves_to_flat,
        {#- cast again: a CASE of DECIMAL(18,2) is a bare NUMERIC on PostgreSQL. -#}
        cast(case when independent_persons > 0
            then {{ from_cents(round_div('cost_cents', 'independent_persons')) }} end
            as decimal(18, 2)) as cost_per_independent_person,
        cast(case when b1_certificates > 0
            then {{ from_cents(round_div('cost_cents', 'b1_certificates')) }} end
            as decimal(18, 2)) as cost_per_b1_certificate,
        cast(case when moves_to_flat > 0
            then {{ from_cents(round_div('cost_cents', 'moves_to_flat')) }} end
            as decimal(18, 2)) as cost_per_move_to_flat
    from grouped
)

select * from final
