{#- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit. -#}
{#- The contracts' email pattern (include/contracts/types.py) as a SQL literal. -#}
{% macro email_pattern() %}{{ return("'^[A-Za-z0-9._%+''\\-]+@[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)*\\.[A-Za-z]{2,}$'") }}{% endmacro %}
