{#- The run's data interval: Airflow passes it in the environment (LIFTOFF_INTERVAL_START /
    LIFTOFF_INTERVAL_END), read only when dbt executes, so the parsed project does not depend
    on the day and every run reuses dbt's partial parse (vars on the command line would
    force a full parse of the project each day). `--vars '{"interval_start": …,
    "interval_end": …}'` still works, for a dbt call by hand and the unit tests; so the
    project declares no default for them (it would win over the environment). -#}
{% macro interval_start() -%}
    '{{ run_interval_bound("interval_start") }}'::timestamptz
{%- endmacro %}

{% macro interval_end() -%}
    '{{ run_interval_bound("interval_end") }}'::timestamptz
{%- endmacro %}

{% macro run_interval_bound(name) -%}
    {%- set given = var(name, none) -%}
    {%- if given is none and execute -%}
        {%- set given = env_var("LIFTOFF_" ~ name | upper, "") -%}
        {%- if not given -%}
            {{ exceptions.raise_compiler_error(
                "the run's interval is not set: LIFTOFF_" ~ name | upper ~ " (Airflow sets it)"
                ~ " or --vars '{\"" ~ name ~ "\": ...}'") }}
        {%- endif -%}
    {%- endif -%}
    {{- given if given is not none else "1970-01-01T00:00:00+00:00" -}}
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

{#- A snapshot's pre-hook: the table's rows go, in the transaction that inserts the new ones. -#}
{% macro delete_all() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
