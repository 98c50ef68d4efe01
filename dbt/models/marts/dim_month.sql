with months as (
    select month from {{ ref('int_months') }}
),

final as (
    select
        month,
        cast({{ year_of('month') }} as integer) as year,
        cast(extract(quarter from month) as integer) as quarter,
        cast({{ month_of('month') }} as integer) as month_of_year,
        case {{ month_of('month') }}
            when 1 then 'Januar'
            when 2 then 'Februar'
            when 3 then 'März'
            when 4 then 'April'
            when 5 then 'Mai'
            when 6 then 'Juni'
            when 7 then 'Juli'
            when 8 then 'August'
            when 9 then 'September'
            when 10 then 'Oktober'
            when 11 then 'November'
            when 12 then 'Dezember'
        end || ' ' || cast({{ year_of('month') }} as varchar)
            as label
    from months
)

select * from final
