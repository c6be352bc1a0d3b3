{#- A bronze model of a `Sale`-contract stream (the CRM's, the entry app's): the accepted
    rows of the run's gated batch, typed, with lineage. One path for every such source. -#}
{% macro bronze_sales(source_name) -%}
{{ config(
    indexes=[
        {'columns': ['batch_interval_start']},
        {'columns': ['airbyte_raw_id'], 'unique': true},
    ],
    pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
) }}
with batch as (

    {{ gated_batch(source_name, 'sales') }}

),

accepted as (

    {{ accepted_rows(source('raw_' ~ source_name, 'sales'), where=in_interval('landed.updated_at')) }}

)

select
    accepted.sale_id::text as sale_id,
    trim(accepted.seller_email)::text as seller_email,
    trim(accepted.product)::text as product,
    accepted.quantity::integer as quantity,
    accepted.amount::numeric(12, 2) as amount,
    accepted.sold_at::timestamptz as sold_at,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns(source_name) }}
from accepted
cross join batch
{%- endmacro %}
