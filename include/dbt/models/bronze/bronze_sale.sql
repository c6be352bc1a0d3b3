-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
-- Every source's bronze rows under the `Sale` contract.
{{ config(materialized='view', indexes=[]) }}

select * from {{ ref('bronze_crm_sales') }}

union all

select * from {{ ref('bronze_entry_sales') }}

union all

select * from {{ ref('bronze_pos_sales') }}
