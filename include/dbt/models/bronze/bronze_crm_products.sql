{{ config(materialized='table') }}

-- The products snapshot the run's batch landed, accepted rows only, typed, with lineage.
with batch as (

    select batch_id, interval_start
    from {{ source('audit', 'batches') }}
    where source = 'crm'
      and stream = 'products'
      and interval_start = {{ interval_start() }}
      and status in ('validated', 'archived')

),

accepted as (

    select landed.*
    from {{ source('raw_crm', 'products') }} as landed
    where not exists (
        select 1
        from {{ source('audit', 'quarantine') }} as quarantine
        where quarantine.airbyte_raw_id = landed._airbyte_raw_id
    )

)

select
    accepted.product_id::text as product_id,
    trim(accepted.name)::text as name,
    nullif(trim(accepted.category), '')::text as category,
    accepted.unit_price::numeric(12, 2) as unit_price,
    accepted.updated_at::timestamptz as updated_at,
    'crm'::text as source,
    batch.batch_id,
    accepted._airbyte_raw_id::text as airbyte_raw_id,
    accepted._airbyte_extracted_at as extracted_at,
    batch.interval_start as batch_interval_start
from accepted
cross join batch
