{{
    config(
        unique_key=['source', 'record_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['source', 'record_id']},
            {'columns': ['sale_date']},
            {'columns': ['source', 'sale_id'], 'unique': true},
        ],
    )
}}

-- Sales from every source, one row per sale: the latest version of each source record wins,
-- whichever day it arrived on; outliers are flagged by a robust per-product rule.
-- A record is its source's: its identity is (source, record id), so no source's rows can
-- replace another's (the same id in two sources is two records).
with sales as (

    -- Every source of single sales (`Sale` contract): one bronze shape, unioned in bronze_sale.
    select
        sale_id,
        sale_id as record_id,
        seller_email,
        product as product_name,
        null::text as sku,
        quantity,
        amount,
        sold_at,
        updated_at,
        source,
        batch_id,
        airbyte_raw_id,
        extracted_at
    from {{ ref('bronze_sale') }}
    where batch_interval_start = {{ interval_start() }}

),

orders as (

    -- Every source of orders (`Order` contract): an order is one record of many lines, and
    -- a new version replaces all of its lines.
    select
        order_id || '#' || line_number as sale_id,
        order_id as record_id,
        sales_rep as seller_email,
        null::text as product_name,
        sku,
        quantity,
        amount,
        placed_at as sold_at,
        modified_at as updated_at,
        source,
        batch_id,
        airbyte_raw_id,
        extracted_at
    from {{ ref('bronze_order') }}
    where batch_interval_start = {{ interval_start() }}

),

products_by_name as (

    -- A sale names its product; each name resolves to one catalogue id, the latest listing
    -- of that name in any source's catalogue (ties: the first source by name).
    select distinct on (name) product_id, name
    from {{ ref('silver_products') }}
    order by name, updated_at desc nulls last, source

),

products_by_id as (

    -- An order line gives the SKU; each id resolves to one name likewise.
    select distinct on (product_id) product_id, name
    from {{ ref('silver_products') }}
    order by product_id, updated_at desc nulls last, source

),

batch_rows as (

    select
        unioned.sale_id,
        unioned.record_id,
        lower(trim(unioned.seller_email)) as seller_email,
        coalesce(unioned.sku, by_name.product_id) as product_id,
        coalesce(unioned.product_name, by_sku.name, unioned.sku) as product,
        unioned.quantity,
        unioned.amount,
        unioned.sold_at,
        unioned.updated_at,
        unioned.source,
        unioned.batch_id,
        unioned.airbyte_raw_id,
        unioned.extracted_at
    from (select * from sales union all select * from orders) as unioned
    left join products_by_name as by_name on by_name.name = unioned.product_name
    left join products_by_id as by_sku on by_sku.product_id = unioned.sku
    -- Rule: a sale cannot be sold after its last update; such a version is dropped.
    where unioned.sold_at <= unioned.updated_at

),

candidates as (

    select * from batch_rows

    {% if is_incremental() %}
    union all

    -- Versions already in silver compete with this batch's, so a rerun of an older day
    -- never overwrites a later correction. A stored copy of a landed record this batch holds
    -- again (a rerun from the same landing) is replaced by the batch's, not ranked beside it.
    select
        sale_id, record_id, seller_email, product_id, product, quantity, amount, sold_at,
        updated_at, source, batch_id, airbyte_raw_id, extracted_at
    from {{ this }}
    where (source, record_id) in (select source, record_id from batch_rows)
      and airbyte_raw_id not in (select airbyte_raw_id from batch_rows)
    {% endif %}

),

latest as (

    -- rank, not row_number: the lines of the winning order version all rank first.
    select *
    from (
        select
            *,
            rank() over (
                partition by source, record_id
                order by updated_at desc, extracted_at desc, batch_id desc, airbyte_raw_id desc
            ) as version_rank
        from candidates
    ) as ranked
    where version_rank = 1

),

outlier_population as (

    -- Unit prices of the product over the trailing window ending on the run's day: silver's
    -- history (less the records this batch replaces) and this batch's versions.
    select coalesce(product_id, product) as product_key, amount / quantity as unit_amount
    from latest

    {% if is_incremental() %}
    union all

    select coalesce(product_id, product), amount / quantity
    from {{ this }}
    where sale_date between {{ run_day() }} - ({{ var('outlier_window_days') }} - 1) and {{ run_day() }}
      and (source, record_id) not in (select source, record_id from latest)
    {% endif %}

),

medians as (

    select
        product_key,
        count(*) as observations,
        percentile_cont(0.5) within group (order by unit_amount) as median_unit_amount
    from outlier_population
    group by product_key

),

spreads as (

    select
        medians.product_key,
        medians.observations,
        medians.median_unit_amount,
        percentile_cont(0.5) within group (
            order by abs(population.unit_amount - medians.median_unit_amount)
        ) as mad_unit_amount
    from outlier_population as population
    inner join medians on medians.product_key = population.product_key
    group by medians.product_key, medians.observations, medians.median_unit_amount

)

select
    latest.sale_id,
    latest.record_id,
    latest.source,
    latest.seller_email,
    latest.product_id,
    latest.product,
    latest.quantity,
    latest.amount,
    latest.sold_at,
    (latest.sold_at at time zone 'UTC')::date as sale_date,
    latest.updated_at,
    -- Rule (outliers): a sale whose unit price is more than `outlier_threshold` robust
    -- deviations from its product's median unit price over the window is flagged, and gold
    -- leaves it out. The robust deviation is 1.4826 x MAD, floored at `outlier_min_spread`
    -- of the median (a fixed-price catalogue has a MAD of 0: discounts are not outliers).
    -- Products with fewer than `outlier_min_observations` prices in the window are not judged.
    coalesce(
        spreads.observations >= {{ var('outlier_min_observations') }}
        and abs(latest.amount / latest.quantity - spreads.median_unit_amount)
            > {{ var('outlier_threshold') }} * greatest(
                1.4826 * spreads.mad_unit_amount,
                {{ var('outlier_min_spread') }} * spreads.median_unit_amount
            ),
        false
    ) as is_outlier,
    latest.batch_id,
    latest.airbyte_raw_id,
    latest.extracted_at
from latest
left join spreads on spreads.product_key = coalesce(latest.product_id, latest.product)
