-- The accepted rows of the run's CRM sales batch, typed, with lineage.
-- Its config (slice replaced per run, indexes) comes with the macro.
{{ bronze_sales('crm') }}
