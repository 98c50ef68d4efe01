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

{#- Traffic light of a value against a target (domain.md section 3): green = met; yellow = missed
    by at most 10 % of the target value (band: of the nearer bound); red otherwise. -#}
{% macro indicator_traffic_light(direction, value, target, band_low, band_high) -%}
    case
        when {{ value }} is null then null
        when {{ direction }} = 'higher' and {{ target }} is not null then
            case when {{ value }} >= {{ target }} then 'green'
                 when {{ value }} >= {{ target }} - 0.1 * abs({{ target }}) then 'yellow'
                 else 'red' end
        when {{ direction }} = 'lower' and {{ target }} is not null then
            case when {{ value }} <= {{ target }} then 'green'
                 when {{ value }} <= {{ target }} + 0.1 * abs({{ target }}) then 'yellow'
                 else 'red' end
        when {{ direction }} = 'band' and ({{ band_low }} is not null or {{ band_high }} is not null) then
            case when ({{ band_low }} is null or {{ value }} >= {{ band_low }})
                      and ({{ band_high }} is null or {{ value }} <= {{ band_high }}) then 'green'
                 when ({{ band_low }} is null or {{ value }} >= {{ band_low }} - 0.1 * abs({{ band_low }}))
                      and ({{ band_high }} is null or {{ value }} <= {{ band_high }} + 0.1 * abs({{ band_high }}))
                     then 'yellow'
                 else 'red' end
    end
{%- endmacro %}
