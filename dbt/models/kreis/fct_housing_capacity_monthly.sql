{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month', on_schema_change='fail') }}
-- Accommodation places, occupancy and free places per month, municipality and kind (GU
-- collective housing, DEZENTRAL flats provided by the municipality), with the totals:
-- ags = 'GESAMT' (the district) and kind = 'GESAMT' (both kinds).
--   places   = capacity of the accommodation valid at month end (valid_from <= month end and
--              valid_to empty or >= month end), in the municipality of its social space
--   occupied = persons at month end whose Unterkunft_ID is such an accommodation
--   free     = places − occupied (negative = more persons than places)
-- Incremental per month (the window of the run), like the other monthly facts.
with months as (
    select month, {{ month_end('month') }} as month_end from {{ ref('int_months') }}
    where {{ month_window() }}
),

accommodation as (
    select
        accommodation.accommodation_id,
        accommodation.kind,
        accommodation.capacity,
        accommodation.valid_from,
        accommodation.valid_to,
        social_spaces.ags
    from {{ ref('accommodation') }} as accommodation
    inner join {{ ref('social_spaces') }} as social_spaces
        on accommodation.social_space_id = social_spaces.social_space_id
),

kinds as (
    select distinct kind from accommodation
),

spine as (
    select months.month, municipalities.ags, kinds.kind
    from months
    cross join {{ ref('municipalities') }} as municipalities
    cross join kinds
),

places as (
    select months.month, accommodation.ags, accommodation.kind, sum(capacity) as places
    from months
    inner join accommodation
        on {{ accommodation_valid_on('months.month_end') }}
    group by months.month, accommodation.ags, accommodation.kind
),

occupied as (
    select persons.month, accommodation.ags, accommodation.kind, count(*) as occupied
    from {{ ref('int_person_months') }} as persons
    inner join accommodation
        on persons.accommodation_id = accommodation.accommodation_id
    where {{ month_window('persons.month') }}
    group by persons.month, accommodation.ags, accommodation.kind
),

base as (
    select
        spine.month,
        spine.ags,
        spine.kind,
        coalesce(places.places, 0) as places,
        coalesce(occupied.occupied, 0) as occupied
    from spine
    left join places
        on places.month = spine.month and places.ags = spine.ags and places.kind = spine.kind
    left join occupied
        on occupied.month = spine.month and occupied.ags = spine.ags
        and occupied.kind = spine.kind
),

final as (
    select
        month,
        cast(case when grouping(ags) = 1 then 'GESAMT' else ags end as varchar) as ags,
        cast(case when grouping(kind) = 1 then 'GESAMT' else kind end as varchar) as kind,
        cast(sum(places) as bigint) as places,
        cast(sum(occupied) as bigint) as occupied,
        cast(sum(places) - sum(occupied) as bigint) as free_places
    from base
    group by grouping sets ((month, ags, kind), (month, ags), (month, kind), (month))
)

select * from final
