-- The sales typed into the entry app in the run's interval (accepted rows), typed, with lineage.
-- Its config (slice replaced per run, indexes) comes with the macro.
{{ bronze_sales('entry') }}
