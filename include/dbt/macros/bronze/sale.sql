{#- Bronze of a stream under the `Sale` contract (a CRM's sales, the entry app's, a
    point-of-sale stream's): the accepted rows of the run's batch, typed, with lineage.
    Each such stream's model is this one call, generated from include/sources.yaml. -#}
{% macro bronze_sale(source_name, stream, sync, cursor_field=none) -%}
{% call bronze_rows(source_name, stream, sync, cursor_field, ['airbyte_raw_id']) -%}
    accepted.sale_id::text as sale_id,
    trim(accepted.seller_email)::text as seller_email,
    trim(accepted.product)::text as product,
    accepted.quantity::integer as quantity,
    accepted.amount::numeric(12, 2) as amount,
    accepted.sold_at::timestamptz as sold_at,
    accepted.updated_at::timestamptz as updated_at
{%- endcall %}
{%- endmacro %}
