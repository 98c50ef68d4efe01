{#- a / b, NULL when b is 0 or NULL. -#}
{% macro safe_ratio(numerator, denominator, scale=1) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as double precision) * {{ scale }} / cast({{ denominator }} as double precision) end
{%- endmacro %}
