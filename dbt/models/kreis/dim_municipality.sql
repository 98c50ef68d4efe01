-- The municipalities of the deployment (a city: the one city).
select
    cast(ags as varchar) as ags,
    cast(name as varchar) as name
from {{ ref('municipalities') }}
