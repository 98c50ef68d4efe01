-- Per person: month of recognition (first month of a Status_seit of status ERLAUBNIS) and month
-- of the switch of benefit law (first month at or after recognition with Rechtskreis SGB2/KEINER).
with person_months as (
    select * from {{ ref('int_person_months') }}
),

recognitions as (
    select
        person_id,
        cast(date_trunc('month', min(status_since)) as date) as recognition_month
    from person_months
    where residence_status = 'ERLAUBNIS'
    group by person_id
),

switches as (
    select
        recognitions.person_id,
        min(person_months.month) as switch_month
    from recognitions
    inner join person_months
        on recognitions.person_id = person_months.person_id
        and person_months.month >= recognitions.recognition_month
        and person_months.benefit_law in ('SGB2', 'KEINER')
    group by recognitions.person_id
),

final as (
    select
        recognitions.person_id,
        recognitions.recognition_month,
        switches.switch_month,
        datediff('month', recognitions.recognition_month, switches.switch_month)
            as months_to_switch
    from recognitions
    left join switches on recognitions.person_id = switches.person_id
)

select * from final
