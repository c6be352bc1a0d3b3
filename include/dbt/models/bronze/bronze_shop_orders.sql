-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{# Written from its contract's template, macros/bronze/order.sql.j2: edit that. #}
{# Bronze of a stream under the `Order` contract (a web shop's orders): one row per order line of
   the run's accepted orders, typed, with lineage. The line's amount is the shop's own
   arithmetic: (unit price x quantity - discount) in cents, over 100. #}
{{ bronze_config(sync='incremental', unique_columns=['airbyte_raw_id', 'line_number']) }}

with batch as (

    {{ validated_batch(source_name='shop', stream='orders') }}

),

accepted as (

    {{ accepted_rows(source_name='shop', stream='orders', cursor_field='modified_at') }}

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
    {{ lineage_columns(source_name='shop') }}
from order_lines as accepted
cross join batch
