{{
    config(
        pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
    )
}}

-- The accepted rows of the run's CRM sales batch, typed, with lineage.
with batch as (

    select batch_id, interval_start
    from {{ source('audit', 'batches') }}
    where source = 'crm'
      and stream = 'sales'
      and interval_start = {{ interval_start() }}
      and status in ('validated', 'archived')

),

landed as (

    select *
    from {{ source('raw_crm', 'sales') }}
    where updated_at::timestamptz >= {{ interval_start() }}
      and updated_at::timestamptz < {{ interval_end() }}

),

accepted as (

    select landed.*
    from landed
    where not exists (
        select 1
        from {{ source('audit', 'quarantine') }} as quarantine
        where quarantine.airbyte_raw_id = landed._airbyte_raw_id
    )

)

select
    accepted.sale_id::text as sale_id,
    trim(accepted.seller_email)::text as seller_email,
    trim(accepted.product)::text as product,
    accepted.quantity::integer as quantity,
    accepted.amount::numeric(12, 2) as amount,
    accepted.sold_at::timestamptz as sold_at,
    accepted.updated_at::timestamptz as updated_at,
    'crm'::text as source,
    batch.batch_id,
    accepted._airbyte_raw_id::text as airbyte_raw_id,
    accepted._airbyte_extracted_at as extracted_at,
    batch.interval_start as batch_interval_start
from accepted
cross join batch
