{{
    config(
        unique_key='sale_id',
        incremental_strategy='delete+insert',
    )
}}

-- One row per sale: the latest version wins, whichever day it arrived on.
with batch_rows as (

    select *
    from {{ ref('bronze_crm_sales') }}
    where batch_interval_start = {{ interval_start() }}
      -- Rule: a sale cannot be sold after its last update; such a version is dropped.
      and sold_at <= updated_at

),

candidates as (

    select sale_id, seller_email, product, quantity, amount, sold_at, updated_at, source, batch_id, extracted_at
    from batch_rows

    {% if is_incremental() %}
    union all

    -- Versions already in silver compete with this batch's, so a rerun of an older day
    -- never overwrites a later correction.
    select sale_id, seller_email, product, quantity, amount, sold_at, updated_at, source, batch_id, extracted_at
    from {{ this }}
    where sale_id in (select sale_id from batch_rows)
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by sale_id
            order by updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from candidates

)

select
    sale_id,
    lower(seller_email) as seller_email,
    product,
    quantity,
    amount,
    sold_at,
    (sold_at at time zone 'UTC')::date as sale_date,
    updated_at,
    source,
    batch_id,
    extracted_at
from ranked
where version_rank = 1
