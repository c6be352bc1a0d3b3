{{
    config(
        unique_key='seller_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['seller_id'], 'unique': true},
            {'columns': ['email'], 'unique': true},
        ],
    )
}}

-- The sales team: every seller the CRM has listed, emails normalised, as the latest snapshot has them.
-- A seller who left stays, so past sales keep their seller.
select
    seller_id,
    name,
    lower(email) as email,
    region,
    updated_at,
    batch_id
from {{ ref('bronze_seller') }}
