{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Full cost per person and month: the attributed expenses (expense accounts; revenues and
-- nicht_zurechenbar are not attributed to persons) per social space x residence status x
-- housing x cost object, divided by the persons of the group in the month's persons stock.
-- GESAMT = all members of a dimension; cost_object `gesamt` = all cost objects. Groups that
-- carry cost but have no person in the stock (payments for persons not in the file) keep
-- persons = 0 and no amount per person. amount_per_person in cents, half away from zero.
with allocation as (
    select allocation.*
    from {{ ref('int_cost_allocation_monthly') }} as allocation
    inner join {{ ref('accounts') }} as accounts
        on accounts.account_id = allocation.account_id and accounts.account_kind = 'expense'
    where {{ month_window('allocation.month') }}
      and allocation.social_space_id <> 'nicht_zurechenbar'
),

persons as (
    select month, social_space_id, residence_status, housing
    from {{ ref('int_person_months') }}
    where {{ month_window() }}
),

amounts as (
    select
        month,
        case when grouping(social_space_id) = 1 then 'GESAMT' else social_space_id end
            as social_space_id,
        case when grouping(residence_status) = 1 then 'GESAMT' else residence_status end
            as residence_status,
        case when grouping(housing) = 1 then 'GESAMT' else housing end as housing,
        case when grouping(cost_object) = 1 then 'gesamt' else cost_object end as cost_object,
        sum(amount_cents) as amount_cents
    from allocation
    group by month, cube(social_space_id, residence_status, housing, cost_object)
),

person_counts as (
    select
        month,
        case when grouping(social_space_id) = 1 then 'GESAMT' else social_space_id end
            as social_space_id,
        case when grouping(residence_status) = 1 then 'GESAMT' else residence_status end
            as residence_status,
        case when grouping(housing) = 1 then 'GESAMT' else housing end as housing,
        count(*) as persons
    from persons
    group by month, cube(social_space_id, residence_status, housing)
),

cost_objects as (
    select cost_object
    from (values ('leistungen'), ('unterbringung'), ('personal'), ('kurse'), ('gemeinkosten'),
        ('gesamt')) as cost_objects (cost_object)
),

cells as (
    select month, social_space_id, residence_status, housing, cost_object
    from person_counts
    cross join cost_objects
    union
    select month, social_space_id, residence_status, housing, cost_object
    from amounts
),

final as (
    select
        cells.month,
        {#- varchar, not PostgreSQL's text of literals (an incremental run would fail). -#}
        cast(cells.social_space_id as varchar) as social_space_id,
        cast(cells.residence_status as varchar) as residence_status,
        cast(cells.housing as varchar) as housing,
        cast(cells.cost_object as varchar) as cost_object,
        cast(coalesce(person_counts.persons, 0) as integer) as persons,
        {{ from_cents('coalesce(amounts.amount_cents, 0)') }} as amount,
        {#- cast again: a CASE of DECIMAL(18,2) is a bare NUMERIC on PostgreSQL. -#}
        cast(case when person_counts.persons > 0 then {{ from_cents(
            round_div('coalesce(amounts.amount_cents, 0)', 'person_counts.persons')) }}
        end as decimal(18, 2)) as amount_per_person
    from cells
    left join person_counts
        on person_counts.month = cells.month
        and person_counts.social_space_id = cells.social_space_id
        and person_counts.residence_status = cells.residence_status
        and person_counts.housing = cells.housing
    left join amounts
        on amounts.month = cells.month
        and amounts.social_space_id = cells.social_space_id
        and amounts.residence_status = cells.residence_status
        and amounts.housing = cells.housing
        and amounts.cost_object = cells.cost_object
)

select * from final
