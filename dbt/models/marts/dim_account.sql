select account_id, title, account_kind
from {{ ref('accounts') }}
