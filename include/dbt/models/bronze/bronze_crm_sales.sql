{{
    config(
        pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
    )
}}

-- The accepted rows of the run's CRM sales batch, typed, with lineage.
with batch as (

    {{ gated_batch('crm', 'sales') }}

),

accepted as (

    {{ accepted_rows(source('raw_crm', 'sales'), where=in_interval('landed.updated_at')) }}

)

select
    accepted.sale_id::text as sale_id,
    trim(accepted.seller_email)::text as seller_email,
    trim(accepted.product)::text as product,
    accepted.quantity::integer as quantity,
    accepted.amount::numeric(12, 2) as amount,
    accepted.sold_at::timestamptz as sold_at,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns('crm') }}
from accepted
cross join batch
