{#- A numeric setting of the seed `settings` (THE place for tolerances), as a scalar subquery. -#}
{% macro setting(name) -%}
    (select cast(value as double precision) from {{ ref('settings') }} where setting = '{{ name }}')
{%- endmacro %}

{#- A value as the reports print it (reports/formatting.py): Anzahl 0 decimals,
    € 2, every other unit (%, Tage, Fälle je VZÄ) 1; half away from zero like the reports'
    ROUND_HALF_UP. Traffic lights and attainment are decided on this value, so a value printed
    as the target is green. -#}
{% macro displayed(value, unit) -%}
    case {{ unit }}
        when 'Anzahl' then cast(round(cast({{ value }} as decimal(38, 9)), 0) as double precision)
        when '€' then cast(round(cast({{ value }} as decimal(38, 9)), 2) as double precision)
        else cast(round(cast({{ value }} as decimal(38, 9)), 1) as double precision)
    end
{%- endmacro %}

{#- Traffic light of a value against a target (domain.md section 3): green = met; yellow = missed
    by at most `tolerance` of the target value (band: of the nearer bound); red otherwise. -#}
{% macro indicator_traffic_light(direction, value, target, band_low, band_high, tolerance) -%}
    case
        when {{ value }} is null then null
        when {{ direction }} = 'higher' and {{ target }} is not null then
            case when {{ value }} >= {{ target }} then 'green'
                 when {{ value }} >= {{ target }} - {{ tolerance }} * abs({{ target }}) then 'yellow'
                 else 'red' end
        when {{ direction }} = 'lower' and {{ target }} is not null then
            case when {{ value }} <= {{ target }} then 'green'
                 when {{ value }} <= {{ target }} + {{ tolerance }} * abs({{ target }}) then 'yellow'
                 else 'red' end
        when {{ direction }} = 'band' and ({{ band_low }} is not null or {{ band_high }} is not null) then
            case when ({{ band_low }} is null or {{ value }} >= {{ band_low }})
                      and ({{ band_high }} is null or {{ value }} <= {{ band_high }}) then 'green'
                 when ({{ band_low }} is null
                          or {{ value }} >= {{ band_low }} - {{ tolerance }} * abs({{ band_low }}))
                      and ({{ band_high }} is null
                          or {{ value }} <= {{ band_high }} + {{ tolerance }} * abs({{ band_high }}))
                     then 'yellow'
                 else 'red' end
    end
{%- endmacro %}

{#- Budget traffic light on the expected year-end overrun (forecast − appropriation, cents exact):
    green when <= 0; yellow when <= `tolerance` of |appropriation|; red otherwise. -#}
{% macro budget_traffic_light(overrun, appropriation, tolerance) -%}
    case
        when {{ overrun }} <= 0 then 'green'
        when {{ overrun }} <= {{ tolerance }} * abs({{ appropriation }}) then 'yellow'
        else 'red'
    end
{%- endmacro %}
