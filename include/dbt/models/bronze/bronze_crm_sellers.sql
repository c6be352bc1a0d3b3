-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{# Written from its contract's template, macros/bronze/seller.sql.j2: edit that. #}
{# Bronze of a stream under the `Seller` contract (the CRM's sales team): the accepted rows of
   the run's batch (a full snapshot), typed, with lineage. #}
{{ bronze_config(sync='full_refresh', unique_columns=['airbyte_raw_id']) }}

with batch as (

    {{ validated_batch(source_name='crm', stream='sellers') }}

),

accepted as (

    {{ accepted_rows(source_name='crm', stream='sellers', cursor_field=none) }}

)

select
    accepted.seller_id::text as seller_id,
    trim(accepted.name)::text as name,
    trim(accepted.email)::text as email,
    nullif(trim(accepted.region), '')::text as region,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns(source_name='crm') }}
from accepted
cross join batch
