-- Observed monthly flows between consecutive months with a persons stock: `month` is the later
-- month m, from_key the person's state in m − 1, to_key its state in m. from_key NULL = an
-- arrival (in m, not in m − 1); to_key NULL = a departure (in m − 1, not in m). A person who
-- stays in the same state is a flow from the state to itself.
with person_months as (
    select month, person_id, state_key from {{ ref('int_planning_person_months') }}
),

data_months as (
    select distinct month from person_months
),

pairs as (
    select month
    from data_months
    where cast(month - interval '1 month' as date) in (select month from data_months)
),

stayed_or_left as (
    select pairs.month, previous.state_key as from_key, current.state_key as to_key
    from pairs
    inner join person_months as previous
        on previous.month = cast(pairs.month - interval '1 month' as date)
    left join person_months as current
        on current.month = pairs.month
        and current.person_id = previous.person_id
),

arrived as (
    select pairs.month, cast(null as varchar) as from_key, current.state_key as to_key
    from pairs
    inner join person_months as current on current.month = pairs.month
    where not exists (
        select 1 from person_months as previous
        where previous.month = cast(pairs.month - interval '1 month' as date)
          and previous.person_id = current.person_id
    )
),

final as (
    select
        month,
        cast(from_key as varchar) as from_key,
        cast(to_key as varchar) as to_key,
        cast(count(*) as bigint) as persons
    from (select * from stayed_or_left union all select * from arrived)
    group by month, from_key, to_key
)

select * from final
