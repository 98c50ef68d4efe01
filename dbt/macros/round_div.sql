{#- Integer division rounded half away from zero: exact cent arithmetic for phasing and
    forecasts (DuckDB divides DECIMALs in DOUBLE, which can be off by a cent). -#}
{% macro round_div(numerator, denominator) -%}
    (sign({{ numerator }}) * {{ int_div(
        'abs(cast(' ~ numerator ~ ' as ' ~ int128() ~ ')) * 2 + (' ~ denominator ~ ')',
        '2 * (' ~ denominator ~ ')') }})
{%- endmacro %}
