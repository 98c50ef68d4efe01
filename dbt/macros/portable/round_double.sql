{#- A DOUBLE rounded to `places` (0-4) decimals as DuckDB's round(x, places) does: half away
    from zero on the exact binary value of x. PostgreSQL has no round(double, int), and
    round(cast(x as numeric), places) rounds x's 15-digit text: 0.25 × 16772.14 is
    4193.0349999999998… in DOUBLE, DuckDB gives 4193.03, the numeric 4193.035 gives 4193.04.
    Here: y = x × 10^places in DOUBLE, rounded half away from zero; y is off only when it lands
    exactly on a half that x × 10^places is not, and the sign of the product's rounding error
    (Dekker's exact product: x split into two 26-bit halves, 10^places has at most 10 bits)
    tells which way to go then. -#}
{% macro round_double(value, places) -%}
    {{ return(adapter.dispatch('round_double')(value, places)) }}
{%- endmacro %}

{% macro default__round_double(value, places) -%}
    {%- set x = '(cast(' ~ value ~ ' as double precision))' -%}
    {%- set scale = 10 ** places -%}
    {%- set y = '(' ~ x ~ ' * ' ~ scale ~ ')' -%}
    {%- set high = '(134217729 * ' ~ x ~ ' - (134217729 * ' ~ x ~ ' - ' ~ x ~ '))' -%}
    {%- set error = '((' ~ high ~ ' * ' ~ scale ~ ' - ' ~ y ~ ') + (' ~ x ~ ' - ' ~ high ~ ') * '
        ~ scale ~ ')' -%}
    (sign({{ y }}) * case
        when abs({{ y }}) - floor(abs({{ y }})) = 0.5 and {{ error }} * sign({{ y }}) < 0
            then floor(abs({{ y }}))
        else floor(abs({{ y }}) + 0.5)
    end / {{ scale }})
{%- endmacro %}

{% macro duckdb__round_double(value, places) -%}
    round({{ value }}, {{ places }})
{%- endmacro %}
