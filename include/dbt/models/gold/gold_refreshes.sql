{{ config(materialized='view') }}

-- The days gold holds and when each was last refreshed, for analysts and the dashboards'
-- freshness line (they read gold only; the log itself is audit.refreshes).
select
    run_day,
    interval_start,
    interval_end,
    run_id,
    refreshed_at
from {{ source('audit', 'refreshes') }}
