-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
-- Every source's bronze rows under the `Seller` contract.
{{ config(materialized='view', indexes=[]) }}

select * from {{ ref('bronze_crm_sellers') }}
