{{ config(materialized='view', tags=['preview']) }}
-- Today so far (UTC) from the stream sources, per product and seller: a preview that the
-- `pos_today` DAG keeps fresh within a minute of each sale. It reads the landing tables
-- as they are (no contract gate yet): a message whose fields do not read as a sale is
-- left out here and quarantined by the day's run, which stays the truth. The one model
-- that reads the clock, by design: "today" is the wall clock's.
with landed as (
{%- for source_name, stream, contract in streamed_sources() if contract == 'sale' %}
    {% if not loop.first %}union all{% endif %}
    select
        '{{ source_name }}'::text as source,
        sale_id,
        lower(trim(seller_email)) as seller_email,
        trim(product) as product,
        quantity,
        amount,
        sold_at,
        _kafka_timestamp as received_at
    from {{ source('raw_' ~ source_name, stream) }}
    where _kafka_timestamp >= date_trunc('day', now(), 'UTC')
{%- else %}
    select
        null::text as source, null::text as sale_id, null::text as seller_email,
        null::text as product, null::text as quantity, null::text as amount,
        null::text as sold_at, null::timestamptz as received_at
    where false
{%- endfor %}
),

typed as (
    -- the casts only where the text reads as a number (case: never evaluated otherwise)
    select
        source,
        sale_id,
        seller_email,
        product,
        sold_at,
        received_at,
        case when quantity ~ '^\s*[0-9]{1,5}\s*$' then trim(quantity)::integer end as quantity,
        case when amount ~ '^\s*[0-9]{1,5}(\.[0-9]{1,2})?\s*$' then trim(amount)::numeric(12, 2) end as amount
    from landed
),

readable as (
    -- the Sale contract's rules (include/contracts/sale.py; a unit test keeps them equal)
    select distinct on (source, sale_id)  -- a retried event counts once
        source,
        sale_id,
        seller_email,
        product,
        quantity,
        amount,
        received_at
    from typed
    where length(trim(sale_id)) between 1 and 64
        and length(seller_email) <= 254
        and seller_email ~ {{ email_pattern() }}
        and length(product) between 1 and 100
        and quantity between 1 and 10000
        and amount > 0
        -- sold today (UTC): a late event of yesterday belongs to yesterday's run
        and left(trim(sold_at), 10) = to_char(now() at time zone 'UTC', 'YYYY-MM-DD')
    order by source, sale_id, received_at desc
)

select
    (now() at time zone 'UTC')::date as sale_date,
    product,
    seller_email,
    count(*) as sales,
    sum(quantity) as units,
    sum(amount) as revenue,
    max(received_at) as last_sale_at
from readable
group by product, seller_email
