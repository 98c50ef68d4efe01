with source as (
    select * from {{ source('raw', 'haushaltsplan') }}
),

renamed as (
    select
        jahr as year,
        produkt as product_id,
        sachkonto as account_id,
        cast(ansatz as decimal(18, 2)) as original_appropriation,
        cast(nachtrag as decimal(18, 2)) as supplementary,
        cast(uebertragung as decimal(18, 2)) as carried_over,
        nullif(upper(trim(profil)), '') as phasing_profile,
        load_id
    from source
)

select * from renamed
