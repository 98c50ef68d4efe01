{#- A numeric setting of the seed `settings` (THE place for tolerances), as a scalar subquery. -#}
{% macro setting(name) -%}
    (select cast(value as double precision) from {{ ref('settings') }} where setting = '{{ name }}')
{%- endmacro %}

{#- A value as the reports print it: rounded to the indicator's `decimals` (seed `indicators`,
    the one statement of the printed precision, also read by reports/formatting.py), half away
    from zero like the reports' ROUND_HALF_UP. Traffic lights and attainment are decided on this
    value, so a value printed as the target is green. DuckDB's round() needs a constant
    precision: one branch per precision the seed allows (0-4, tested in seeds/_seeds.yml). -#}
{% macro displayed(value, decimals) -%}
    case {{ decimals }}
    {%- for places in range(5) %}
        when {{ places }} then cast(round(cast({{ value }} as decimal(38, 9)), {{ places }}) as double precision)
    {%- endfor %}
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
