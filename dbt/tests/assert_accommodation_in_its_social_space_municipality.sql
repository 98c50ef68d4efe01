-- An accommodation's municipality (accommodation.ags) is that of its social space: the places
-- of a municipality are stated once, whichever of the two a model joins.
select a.accommodation_id, a.ags, a.social_space_id, s.ags as social_space_ags
from {{ ref('accommodation') }} as a
left join {{ ref('social_spaces') }} as s on s.social_space_id = a.social_space_id
where s.ags is distinct from a.ags
