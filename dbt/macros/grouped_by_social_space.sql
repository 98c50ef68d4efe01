{#- Group a per-social-space CTE to the social spaces plus the city-wide member `GESAMT`.
    Rows whose social_space_id is null are placeholders of months with source data but no
    facts (from a left join): they only contribute to `GESAMT`. -#}
{% macro grouped_by_social_space(aggregates, relation='base') -%}
    select
        month,
        case when grouping(social_space_id) = 1 then 'GESAMT' else social_space_id end
            as social_space_id,
        {{ aggregates }}
    from {{ relation }}
    group by grouping sets ((month, social_space_id), (month))
    having grouping(social_space_id) = 1 or social_space_id is not null
{%- endmacro %}
