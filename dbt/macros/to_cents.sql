{#- DECIMAL(18,2) euros -> integer cents (exact; back with from_cents). -#}
{% macro to_cents(amount) -%}
    cast(round(cast({{ amount }} as decimal(18, 2)) * 100) as {{ int128() }})
{%- endmacro %}
