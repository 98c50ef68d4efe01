{#- When an accommodation counts: valid on `day` (valid_from <= day, valid_to empty or >= day). The
    places of a month are those valid on its last day (docs/domain.md, K02). -#}
{% macro accommodation_valid_on(day, relation='accommodation') -%}
    {{ relation }}.valid_from <= {{ day }}
    and ({{ relation }}.valid_to is null or {{ relation }}.valid_to >= {{ day }})
{%- endmacro %}

{#- GU places per month of `months` (a relation or subquery with a column month): the capacity
    of the collective housing valid on the month's last day. -#}
{% macro gu_places_per_month(months) -%}
    select months.month, sum(accommodation.capacity) as places
    from {{ months }} as months
    inner join {{ ref('accommodation') }} as accommodation
        on accommodation.kind = 'GU'
        and {{ accommodation_valid_on(month_end('months.month')) }}
    group by months.month
{%- endmacro %}
