select
    product_id,
    title,
    product_group_id,
    product_group_title,
    product_area_id,
    product_area_title,
    budget_unit,
    responsible_unit,
    field_of_action
from {{ ref('products') }}
