{#- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit. -#}
{#- The configured sources' names: the values silver's `source` may take. -#}
{% macro configured_sources() %}{{ return(['crm', 'shop', 'entry', 'pos']) }}{% endmacro %}
