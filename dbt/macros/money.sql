{#- Integer division rounded half away from zero: exact cent arithmetic for phasing and
    forecasts (DuckDB divides DECIMALs in DOUBLE, which can be off by a cent). -#}
{% macro round_div(numerator, denominator) -%}
    (sign({{ numerator }}) * ((abs(cast({{ numerator }} as hugeint)) * 2 + ({{ denominator }}))
        // (2 * ({{ denominator }}))))
{%- endmacro %}

{#- DECIMAL(18,2) euros -> integer cents, and back. -#}
{% macro to_cents(amount) -%}
    cast(round(cast({{ amount }} as decimal(18, 2)) * 100) as hugeint)
{%- endmacro %}

{% macro from_cents(cents) -%}
    cast(cast({{ cents }} as decimal(38, 0)) * cast(0.01 as decimal(3, 2)) as decimal(18, 2))
{%- endmacro %}
