{#- Integer cents -> DECIMAL(18,2) euros (exact; the inverse of to_cents). -#}
{% macro from_cents(cents) -%}
    cast(cast({{ cents }} as decimal(38, 0)) * cast(0.01 as decimal(3, 2)) as decimal(18, 2))
{%- endmacro %}
