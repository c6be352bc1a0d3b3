{{
    config(
        unique_key='product_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['product_id'], 'unique': true},
            {'columns': ['name'], 'unique': true},
        ],
    )
}}

-- The product catalogue: every product the CRM has listed, as its latest snapshot has it.
-- A product dropped from the catalogue stays, so past sales keep their product.
select
    product_id,
    name,
    category,
    unit_price,
    updated_at,
    batch_id
from {{ ref('bronze_product') }}
