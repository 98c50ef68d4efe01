{#- The measures every budget mart derives from its net figures (per product, per Teilhaushalt):
    money as DECIMAL(18,2), deviation and coverage ratios, and the traffic light, which is shown
    only for a complete ledger in a full year. Expects the columns expense_appropriation,
    revenue_appropriation, net_appropriation, plan_to_date_net, expense_to_date, revenue_to_date,
    net_burden_to_date, forecast_net, is_partial_year, is_ledger_complete. -#}
{% macro budget_execution_measures() -%}
        cast(expense_appropriation as decimal(18, 2)) as expense_appropriation,
        cast(revenue_appropriation as decimal(18, 2)) as revenue_appropriation,
        cast(net_appropriation as decimal(18, 2)) as net_appropriation,
        cast(plan_to_date_net as decimal(18, 2)) as plan_to_date_net,
        cast(expense_to_date as decimal(18, 2)) as expense_to_date,
        cast(revenue_to_date as decimal(18, 2)) as revenue_to_date,
        cast(net_burden_to_date as decimal(18, 2)) as net_burden_to_date,
        cast(net_burden_to_date - plan_to_date_net as decimal(18, 2)) as deviation_to_date,
        {{ safe_ratio('net_burden_to_date - plan_to_date_net', 'plan_to_date_net') }}
            as deviation_to_date_ratio,
        cast(forecast_net as decimal(18, 2)) as forecast_net,
        cast(forecast_net - net_appropriation as decimal(18, 2)) as expected_deviation,
        {{ safe_ratio('revenue_to_date', 'expense_to_date') }} as coverage_ratio,
        is_partial_year,
        is_ledger_complete,
        {#- varchar, not PostgreSQL's text of a literal CASE (an incremental run would fail). -#}
        cast(case when is_ledger_complete and not is_partial_year then
            {{ budget_traffic_light('forecast_net - net_appropriation', 'net_appropriation',
                setting('budget_traffic_light_tolerance')) }}
        end as varchar) as traffic_light
{%- endmacro %}
