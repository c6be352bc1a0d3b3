-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
-- Every source's bronze rows under the `Product` contract.
{{ config(materialized='view', indexes=[]) }}

select * from {{ ref('bronze_crm_products') }}
