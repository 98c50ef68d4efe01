-- Every month from the first to the last month that any source delivered data for.
with persons as (
    select month from {{ ref('stg_case_software__persons') }}
),

payments as (
    select month from {{ ref('stg_case_software__asylblg_payments') }}
),

ledger as (
    select month from {{ ref('stg_finance__ledger_actuals') }}
),

courses as (
    select snapshot_month as month from {{ ref('stg_course_providers__courses') }}
    union all
    select snapshot_month as month from {{ ref('stg_course_providers__participations') }}
),

data_months as (
    select month from persons
    union all select month from payments
    union all select month from ledger
    union all select month from courses
),

bounds as (
    select min(month) as first_month, max(month) as last_month
    from data_months
),

final as (
    select cast(series.month as date) as month
    from bounds
    cross join generate_series(
        cast(bounds.first_month as timestamp), cast(bounds.last_month as timestamp),
        interval '1 month')
        as series (month)
    where bounds.first_month is not null
)

select * from final
