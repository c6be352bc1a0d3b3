{{ config(materialized='table') }}

-- The sellers snapshot the run's batch landed, accepted rows only, typed, with lineage.
with batch as (

    select batch_id, interval_start
    from {{ source('audit', 'batches') }}
    where source = 'crm'
      and stream = 'sellers'
      and interval_start = {{ interval_start() }}
      and status in ('validated', 'archived')

),

accepted as (

    select landed.*
    from {{ source('raw_crm', 'sellers') }} as landed
    where not exists (
        select 1
        from {{ source('audit', 'quarantine') }} as quarantine
        where quarantine.airbyte_raw_id = landed._airbyte_raw_id
    )

)

select
    accepted.seller_id::text as seller_id,
    trim(accepted.name)::text as name,
    trim(accepted.email)::text as email,
    nullif(trim(accepted.region), '')::text as region,
    accepted.updated_at::timestamptz as updated_at,
    'crm'::text as source,
    batch.batch_id,
    accepted._airbyte_raw_id::text as airbyte_raw_id,
    accepted._airbyte_extracted_at as extracted_at,
    batch.interval_start as batch_interval_start
from accepted
cross join batch
