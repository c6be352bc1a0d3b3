{{
    config(
        unique_key=['source', 'product_id'],
        incremental_strategy='delete+insert',
        pre_hook="{{ key_by_source('product_id', 'name') }}",
        indexes=[
            {'columns': ['source', 'product_id'], 'unique': true},
            {'columns': ['source', 'name'], 'unique': true},
        ],
    )
}}

-- The product catalogues: every product each source has listed, as its latest snapshot has
-- it. A record is its source's: the same product id in two catalogues is two rows.
-- A product dropped from a catalogue stays, so past sales keep their product.
select
    source,
    product_id,
    name,
    category,
    unit_price,
    updated_at,
    batch_id
from {{ ref('bronze_product') }}
