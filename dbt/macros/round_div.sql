{#- Integer division rounded half away from zero: exact cent arithmetic for phasing and
    forecasts (DuckDB divides DECIMALs in DOUBLE, which can be off by a cent). -#}
{% macro round_div(numerator, denominator) -%}
    (sign({{ numerator }}) * ((abs(cast({{ numerator }} as hugeint)) * 2 + ({{ denominator }}))
        // (2 * ({{ denominator }}))))
{%- endmacro %}
