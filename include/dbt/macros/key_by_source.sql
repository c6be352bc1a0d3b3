{#- The upgrade of a reference table built before records were keyed by their source
    (silver_products, silver_sellers): the column `source` is added, filled from each row's
    batch id (`<source>.<stream>.<interval>`), and the unique indexes that leave it out are
    replaced by ones on it. A pre-hook: it runs as the pipeline, in the model's transaction,
    and does nothing to a table that has the column (or to a first build). -#}
{% macro key_by_source(key, unique_column) -%}
{%- if is_incremental() -%}
do $migrate$
declare
    legacy record;
begin
    if exists (
        select 1 from information_schema.columns
        where table_schema = '{{ this.schema }}' and table_name = '{{ this.identifier }}'
          and column_name = 'source'
    ) then
        return;
    end if;
    alter table {{ this }} add column source text;
    update {{ this }} set source = split_part(batch_id, '.', 1);
    for legacy in
        select index_class.relname as name
        from pg_catalog.pg_index as ix
        join pg_catalog.pg_class as index_class on index_class.oid = ix.indexrelid
        where ix.indrelid = '{{ this }}'::regclass and ix.indisunique
    loop
        execute format('drop index {{ this.schema }}.%I', legacy.name);
    end loop;
    create unique index on {{ this }} (source, {{ key }});
    create unique index on {{ this }} (source, {{ unique_column }});
end
$migrate$
{%- endif -%}
{%- endmacro %}
