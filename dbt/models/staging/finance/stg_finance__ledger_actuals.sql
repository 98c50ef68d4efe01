with source as (
    select * from {{ source('raw', 'fibu_ist') }}
),

renamed as (
    select
        cast(date_trunc('month', periode) as date) as month,
        produkt as product_id,
        sachkonto as account_id,
        kostenstelle as cost_centre,
        cast(betrag as decimal(18, 2)) as amount,
        load_id
    from source
)

select * from renamed
