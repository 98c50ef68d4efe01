-- The social spaces of the reference plus the explicit member `unbekannt`.
with seed as (
    select social_space_id, name, ags, false as is_unknown
    from {{ ref('social_spaces') }}
),

final as (
    select * from seed
    union all
    select 'unbekannt' as social_space_id, 'unbekannt' as name, null as ags, true as is_unknown
)

select * from final
