-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{# Written from its contract's template, macros/bronze/product.sql.j2: edit that. #}
{# Bronze of a stream under the `Product` contract (the CRM's catalogue): the accepted rows of
   the run's batch (a full snapshot), typed, with lineage. #}
{{ bronze_config(sync='full_refresh', unique_columns=['airbyte_raw_id']) }}

with batch as (

    {{ validated_batch(source_name='crm', stream='products') }}

),

accepted as (

    {{ accepted_rows(source_name='crm', stream='products', cursor_field=none) }}

)

select
    accepted.product_id::text as product_id,
    trim(accepted.name)::text as name,
    nullif(trim(accepted.category), '')::text as category,
    accepted.unit_price::numeric(12, 2) as unit_price,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns(source_name='crm') }}
from accepted
cross join batch
