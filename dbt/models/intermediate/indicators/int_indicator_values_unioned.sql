-- All indicators K01–K14 in one long table (each computed once, in its own model).
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k01') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k02') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k03') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k04') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k05') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k06') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k07') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k08') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k09') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k10') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k11') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k12') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k13') }}
union all
select month, indicator_id, social_space_id, numerator, denominator, value
from {{ ref('int_indicator__k14') }}
