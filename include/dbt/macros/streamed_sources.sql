{#- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit. -#}
{#- The stream sources' streams (source, stream, contract): what the today previews read. -#}
{% macro streamed_sources() %}{{ return([('pos', 'sales', 'sale')]) }}{% endmacro %}
