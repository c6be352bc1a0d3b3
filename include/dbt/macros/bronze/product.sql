{#- Bronze of a stream under the `Product` contract (the CRM's catalogue): the accepted
    rows of the run's batch (a full snapshot), typed, with lineage. -#}
{% macro bronze_product(source_name, stream, sync, cursor_field=none) -%}
{% call bronze_rows(source_name, stream, sync, cursor_field, ['airbyte_raw_id']) -%}
    accepted.product_id::text as product_id,
    trim(accepted.name)::text as name,
    nullif(trim(accepted.category), '')::text as category,
    accepted.unit_price::numeric(12, 2) as unit_price,
    accepted.updated_at::timestamptz as updated_at
{%- endcall %}
{%- endmacro %}
