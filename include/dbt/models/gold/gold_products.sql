{{
    config(
        materialized='table',
    )
}}

-- The product catalogue for analysts and the entry form's product list (the analyst role
-- reads gold only). A dimension, not a daily slice: each run rebuilds it whole.
select
    product_id,
    name,
    category,
    unit_price::numeric(12, 2) as unit_price
from {{ ref('silver_products') }}
