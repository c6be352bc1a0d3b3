{{ config(materialized='table') }}

-- The products snapshot the run's batch landed, accepted rows only, typed, with lineage.
with batch as (

    {{ gated_batch('crm', 'products') }}

),

accepted as (

    {{ accepted_rows(source('raw_crm', 'products')) }}

)

select
    accepted.product_id::text as product_id,
    trim(accepted.name)::text as name,
    nullif(trim(accepted.category), '')::text as category,
    accepted.unit_price::numeric(12, 2) as unit_price,
    accepted.updated_at::timestamptz as updated_at,
    {{ lineage_columns('crm') }}
from accepted
cross join batch
