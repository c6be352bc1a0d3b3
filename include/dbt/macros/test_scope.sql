{#- Tests of incremental layers check the slice the run wrote, so a day's cost does not grow
    with history (benchmarks/bench_history.py). dbt_project.yml sets their `where` with
    placeholders this override fills in when the test runs (dbt's documented pattern):
      __interval_start__  the run's interval start
      __run_batches__     the ids of the run's batches in audit.batches
    Uniqueness across the whole table is PostgreSQL's job there: unique indexes. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where
            | replace('__interval_start__', interval_start())
            | replace('__run_batches__', '(select batch_id from audit.batches where interval_start = ' ~ interval_start() ~ ')') -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
