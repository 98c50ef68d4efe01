select
    indicator_id,
    name,
    definition,
    level,
    field_of_action,
    product_id,
    unit,
    direction,
    per_social_space,
    min_denominator,
    counts_persons,
    sort_order
from {{ ref('indicators') }}
