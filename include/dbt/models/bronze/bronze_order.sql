-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
-- Every source's bronze rows under the `Order` contract.
{{ config(materialized='view', indexes=[]) }}

select * from {{ ref('bronze_shop_orders') }}
