{#- The run's data interval, as passed by Airflow (vars interval_start / interval_end). -#}
{% macro interval_start() -%}
    '{{ var("interval_start") }}'::timestamptz
{%- endmacro %}

{% macro interval_end() -%}
    '{{ var("interval_end") }}'::timestamptz
{%- endmacro %}

{#- The day of data the run is for (UTC): gold is relative to it, never to now(). -#}
{% macro run_day() -%}
    ({{ interval_start() }} at time zone 'UTC')::date
{%- endmacro %}

{#- The landed rows whose cursor ``column`` falls in the run's interval. Landing is text:
    the cursor is read through audit.cursor_time (made by the bootstrap), so a value that
    is no time is no match, never an error. -#}
{% macro in_interval(column) -%}
    audit.cursor_time({{ column }}::text) >= {{ interval_start() }}
    and audit.cursor_time({{ column }}::text) < {{ interval_end() }}
{%- endmacro %}

{#- Pre-hook of interval-partitioned incremental models: the run first removes its own
    slice, then inserts it again, in one transaction, so a rerun replaces, never duplicates. -#}
{% macro delete_slice(column, lower_bound, upper_bound) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} >= {{ lower_bound }} and {{ column }} < {{ upper_bound }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
