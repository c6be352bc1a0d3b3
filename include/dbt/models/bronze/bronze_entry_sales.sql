{{
    config(
        indexes=[
            {'columns': ['batch_interval_start']},
            {'columns': ['airbyte_raw_id'], 'unique': true},
        ],
        pre_hook="{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}",
    )
}}

-- The sales typed into the entry app in the run's interval (accepted rows), typed, with lineage.
{{ bronze_sales('entry') }}
