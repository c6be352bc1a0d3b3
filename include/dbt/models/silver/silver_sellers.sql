{{
    config(
        unique_key=['source', 'seller_id'],
        incremental_strategy='delete+insert',
        pre_hook="{{ key_by_source('seller_id', 'email') }}",
        indexes=[
            {'columns': ['source', 'seller_id'], 'unique': true},
            {'columns': ['source', 'email'], 'unique': true},
        ],
    )
}}

-- The sales teams: every seller each source has listed, emails normalised, as its latest
-- snapshot has them. A record is its source's: the same seller id in two sources is two rows.
-- A seller who left stays, so past sales keep their seller.
select
    source,
    seller_id,
    name,
    lower(email) as email,
    region,
    updated_at,
    batch_id
from {{ ref('bronze_seller') }}
