{{ config(materialized='table') }}

-- The sellers snapshot the run's batch landed, accepted rows only, typed, with lineage.
with batch as (

    {{ gated_batch('crm', 'sellers') }}

),

accepted as (

    {{ accepted_rows(source('raw_crm', 'sellers')) }}

)

select
    accepted.seller_id::text as seller_id,
    trim(accepted.name)::text as name,
    trim(accepted.email)::text as email,
    nullif(trim(accepted.region), '')::text as region,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns('crm') }}
from accepted
cross join batch
