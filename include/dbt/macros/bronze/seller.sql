{#- Bronze of a stream under the `Seller` contract (the CRM's sales team): the accepted
    rows of the run's batch (a full snapshot), typed, with lineage. -#}
{% macro bronze_seller(source_name, stream, sync, cursor_field=none) -%}
{% call bronze_rows(source_name, stream, sync, cursor_field, ['airbyte_raw_id']) -%}
    accepted.seller_id::text as seller_id,
    trim(accepted.name)::text as name,
    trim(accepted.email)::text as email,
    nullif(trim(accepted.region), '')::text as region,
    accepted.updated_at::timestamptz as updated_at
{%- endcall %}
{%- endmacro %}
