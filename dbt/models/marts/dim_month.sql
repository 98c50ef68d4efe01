with months as (
    select month from {{ ref('int_months') }}
),

final as (
    select
        month,
        cast(year(month) as integer) as year,
        cast(quarter(month) as integer) as quarter,
        cast(month(month) as integer) as month_of_year,
        ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September',
            'Oktober', 'November', 'Dezember'][month(month)] || ' ' || cast(year(month) as varchar)
            as label
    from months
)

select * from final
