-- Per month M of the participation snapshots: the persons whose first course participation as
-- known at M (earliest Eintritt in the snapshots up to M) starts in M, with the Zuzugsdatum and
-- social space of the latest persons snapshot up to M. Only data up to M are read, so a later
-- snapshot (e.g. a participation reported late with an earlier Eintritt) never changes M.
-- Persons never in the stock up to M have no Zuzugsdatum (waiting_days NULL).
with participations as (
    select person_id, snapshot_month, entry_date from {{ ref('stg_course_providers__participations') }}
),

person_months as (
    select person_id, month, arrival_date, social_space_id from {{ ref('int_person_months') }}
),

per_snapshot as (
    select person_id, snapshot_month, min(entry_date) as first_entry_in_snapshot
    from participations
    group by person_id, snapshot_month
),

as_of_month as (
    select
        person_id,
        snapshot_month as month,
        min(first_entry_in_snapshot) over (
            partition by person_id order by snapshot_month
            rows between unbounded preceding and current row
        ) as first_entry_date
    from per_snapshot
),

starting as (
    select * from as_of_month
    where date_trunc('month', first_entry_date) = month
),

final as (
    select
        starting.month,
        starting.person_id,
        starting.first_entry_date,
        person_months.arrival_date,
        coalesce(person_months.social_space_id, 'unbekannt') as social_space_id,
        {{ dbt.datediff('person_months.arrival_date', 'starting.first_entry_date', 'day') }} as waiting_days
    from starting
    {{ asof_left_join('person_months', 'starting.person_id', 'person_id', 'starting.month',
        'month') }}
)

select * from final
