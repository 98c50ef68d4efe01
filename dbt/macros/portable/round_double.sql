{#- A DOUBLE rounded to `places` decimals as DuckDB's round(x, places) does it: x × 10^places
    rounded half away from zero in DOUBLE, divided back. PostgreSQL has no round(double, int);
    round(cast(x as numeric), places) would round x's 15-digit decimal text instead, which can
    differ by a cent at a half (1.005 × 100 = 100.49999999999999 in DOUBLE: DuckDB 1.00,
    numeric 1.01). floor(|y| + 0.5) is DuckDB's std::round(y) for 0.5 <= |y| < 2^52. -#}
{% macro round_double(value, places) -%}
    {{ return(adapter.dispatch('round_double')(value, places)) }}
{%- endmacro %}

{% macro default__round_double(value, places) -%}
    {%- set scaled = '(cast(' ~ value ~ ' as double precision) * ' ~ (10 ** places) ~ ')' -%}
    (sign({{ scaled }}) * floor(abs({{ scaled }}) + 0.5) / {{ 10 ** places }})
{%- endmacro %}

{% macro duckdb__round_double(value, places) -%}
    round({{ value }}, {{ places }})
{%- endmacro %}
