{{
    config(
        indexes=[
            {'columns': ['batch_interval_start']},
            {'columns': ['airbyte_raw_id', 'line_number'], 'unique': true},
        ],
        pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
    )
}}

-- The accepted rows of the run's shop orders batch, one row per order line, typed, with lineage.
with batch as (

    {{ gated_batch('shop', 'orders') }}

),

accepted as (

    {{ accepted_rows(source('raw_shop', 'orders'), where=in_interval('landed.modified_at')) }}

),

order_lines as (

    select
        accepted.*,
        line.value as line,
        line.line_number::integer as line_number
    from accepted
    cross join lateral json_array_elements(accepted.lines::json) with ordinality as line (value, line_number)

)

select
    accepted.order_id::text as order_id,
    accepted.line_number,
    trim(accepted.sales_rep)::text as sales_rep,
    trim(accepted.line ->> 'sku')::text as sku,
    (accepted.line ->> 'quantity')::integer as quantity,
    (accepted.line ->> 'unit_price_cents')::bigint as unit_price_cents,
    coalesce((accepted.line ->> 'discount_cents')::bigint, 0) as discount_cents,
    (
        ((accepted.line ->> 'unit_price_cents')::bigint * (accepted.line ->> 'quantity')::integer
         - coalesce((accepted.line ->> 'discount_cents')::bigint, 0)) / 100.0
    )::numeric(12, 2) as amount,
    accepted.placed_at::timestamptz as placed_at,
    accepted.modified_at::timestamptz as modified_at,
    {{ lineage_columns('shop') }}
from order_lines as accepted
cross join batch
