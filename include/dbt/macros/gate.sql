{#- What bronze may read: the run's gated batch of a stream, and its accepted rows. -#}

{#- The run's batch of source.stream, once the contract gate has passed it. -#}
{% macro gated_batch(source_name, stream) -%}
    select batch_id, interval_start
    from {{ source('audit', 'batches') }}
    where source = '{{ source_name }}'
      and stream = '{{ stream }}'
      and interval_start = {{ interval_start() }}
      and status in ('validated', 'archived')
{%- endmacro %}

{#- The landed rows of a stream (optionally filtered) less those the gate quarantined. -#}
{% macro accepted_rows(landing, where=none) -%}
    select landed.*
    -- a subquery, so that `dbt build --empty` (which renders the source as one) still parses
    from (select * from {{ landing }}) as landed
    where not exists (
        select 1
        from (select * from {{ source('audit', 'quarantine') }}) as quarantine
        where quarantine.airbyte_raw_id = landed._airbyte_raw_id
    )
    {%- if where %}
      and {{ where }}
    {%- endif %}
{%- endmacro %}

{#- The lineage every bronze row carries: source, batch, landing id and time, batch interval. -#}
{% macro lineage_columns(source_name) -%}
    '{{ source_name }}'::text as source,
    batch.batch_id,
    accepted._airbyte_raw_id::text as airbyte_raw_id,
    accepted._airbyte_extracted_at as extracted_at,
    batch.interval_start as batch_interval_start
{%- endmacro %}
