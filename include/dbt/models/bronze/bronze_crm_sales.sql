-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{# Written from its contract's template, macros/bronze/sale.sql.j2: edit that. #}
{# Bronze of a stream under the `Sale` contract (a CRM's sales, the entry app's, a
   point-of-sale stream's): the accepted rows of the run's batch, one row per landed record,
   typed, with lineage. #}
{{ bronze_config(sync='incremental', unique_columns=['airbyte_raw_id']) }}

with batch as (

    {{ validated_batch(source_name='crm', stream='sales') }}

),

accepted as (

    {{ accepted_rows(source_name='crm', stream='sales', cursor_field='updated_at') }}

)

select
    accepted.sale_id::text as sale_id,
    trim(accepted.seller_email)::text as seller_email,
    trim(accepted.product)::text as product,
    accepted.quantity::integer as quantity,
    accepted.amount::numeric(12, 2) as amount,
    accepted.sold_at::timestamptz as sold_at,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns(source_name='crm') }}
from accepted
cross join batch
