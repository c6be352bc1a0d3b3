{{
    config(
        materialized='table',
    )
}}

-- The product catalogue for analysts and the entry form's product list (the analyst role
-- reads gold only). A dimension, not a daily slice: each run rebuilds it whole. One row a
-- product name, as sales name them: with several sources' catalogues, the latest listing
-- of the name wins (ties: the first source by name), as silver_sales resolves it.
select distinct on (name)
    product_id,
    name,
    category,
    unit_price::numeric(12, 2) as unit_price
from {{ ref('silver_products') }}
order by name, updated_at desc nulls last, source
