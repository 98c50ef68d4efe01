select
    cast(social_space_id as varchar) as social_space_id,
    cast(name as varchar) as name,
    cast(ags as varchar) as ags,
    cast(is_unknown as boolean) as is_unknown
from {{ ref('int_social_spaces') }}
