-- The products of the Teilhaushalt: every product of the products reference with a budget unit.
-- The one statement of the product set that the budget total (fct_budget_unit_monthly) and K13 /
-- K14 (int_budget_unit_ytd) sum over.
select product_id, budget_unit
from {{ ref('products') }}
where nullif(trim(budget_unit), '') is not null
