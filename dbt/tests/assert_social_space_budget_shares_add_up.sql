-- The negotiated shares of a year and product add up to exactly 1.
select year, product_id, sum(share) as total_share
from {{ ref('social_space_budget_shares') }}
group by year, product_id
having sum(share) <> 1
