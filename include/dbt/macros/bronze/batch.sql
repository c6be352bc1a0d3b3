{#- What every bronze model reads and writes, whatever its contract: the run's validated
    batch of a stream, its accepted rows, its lineage, and how its table is kept. Each
    bronze model (models/bronze/bronze_<source>_<stream>.sql) calls these itself; the rest of
    its SQL, its typed columns, is its contract's template (<contract>.sql.j2, beside this
    file), written out for each stream by `liftoff derive`. -#}

{#- The model's materialization from the stream's sync (include/sources.yaml):
    incremental streams keep one slice per run, replaced by a rerun (pre-hook); a
    full-refresh stream's snapshot replaces the last one whole (pre-hook), in the model's
    own transaction: no table swap, whose drop of the old table would take the bronze views
    with it while another day's silver reads them (bronze runs beside earlier days' silver:
    dags/sales_elt.py). `unique_columns` are a landed record's. -#}
{% macro bronze_config(sync, unique_columns) -%}
    {%- set replaced = "{{ delete_slice('batch_interval_start', interval_start(), interval_end()) }}"
        if sync == 'incremental' else "{{ delete_all() }}" -%}
    {{ config(
        materialized='incremental',
        indexes=[
            {'columns': ['batch_interval_start']},
            {'columns': unique_columns, 'unique': true},
        ],
        pre_hook=replaced,
    ) }}
{%- endmacro %}

{#- The run's batch of source.stream, once the contract validation has passed it. -#}
{% macro validated_batch(source_name, stream) -%}
    select batch_id, interval_start, gated_ids
    from {{ source('audit', 'batches') }}
    where source = '{{ source_name }}'
      and stream = '{{ stream }}'
      and interval_start = {{ interval_start() }}
      and status in ('validated', 'archived')
{%- endmacro %}

{#- The landed rows of the run's batch less those the validation quarantined: for an
    incremental stream the rows whose cursor falls in the interval, else the snapshot. -#}
{% macro accepted_rows(source_name, stream, cursor_field=none) -%}
    select landed.*
    -- a subquery, so that `dbt build --empty` (which renders the source as one) still parses
    from (select * from {{ source('raw_' ~ source_name, stream) }}) as landed
    where not exists (
        select 1
        from (select * from {{ source('audit', 'quarantine') }}) as quarantine
        where quarantine.airbyte_raw_id = landed._airbyte_raw_id
    )
    -- a landing that changes under the run (pushed rows, the stream's preview): only the rows
    -- the gate judged; one committed after it waits for the next run of its day
    and (
        not coalesce((select bool_or(gated_ids) from batch), false)
        or exists (
            select 1
            from (select * from {{ source('audit', 'gated') }}) as gated
            where gated.batch_id in (select batch_id from batch)
              and gated.airbyte_raw_id = landed._airbyte_raw_id
        )
    )
    {%- if cursor_field %}
      and {{ in_interval('landed.' ~ adapter.quote(cursor_field)) }}
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
