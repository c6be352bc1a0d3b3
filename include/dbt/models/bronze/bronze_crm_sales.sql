{{
    config(
        indexes=[
            {'columns': ['batch_interval_start']},
            {'columns': ['airbyte_raw_id'], 'unique': true},
        ],
        pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
    )
}}

-- The accepted rows of the run's CRM sales batch, typed, with lineage.
{{ bronze_sales('crm') }}
