{#- The column names a source of include/sources.yaml (macros/configured_sources.sql). -#}
{% test configured_source(model, column_name) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} not in ({% for name in configured_sources() %}'{{ name }}'{{ ", " if not loop.last }}{% endfor %})
{% endtest %}
