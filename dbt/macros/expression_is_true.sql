{#- Generic data test: the rows for which a boolean SQL expression does not hold (the
    cross-field rules of the source contract, generated into models/staging/_raw__sources.yml). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
