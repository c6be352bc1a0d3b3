{#- A *_7d gold model: sales over the `gold_window_days` days ending on the run's day
    (outliers left out), per `dimension` of silver_sales, ranked by revenue. One slice per
    run day (`as_of_date`), replaced by a rerun. -#}
{% macro sales_window_ranking(dimension) -%}
{{ config(
    indexes=[{'columns': ['as_of_date']}],
    pre_hook="{{ delete_slice('as_of_date', run_day(), run_day() ~ ' + 1') }}",
) }}
with window_sales as (

    select *
    from {{ ref('silver_sales') }}
    where sale_date between {{ run_day() }} - ({{ var("gold_window_days") }} - 1) and {{ run_day() }}
      and not is_outlier

)

select
    {{ run_day() }} as as_of_date,
    {{ dimension }},
    count(*)::bigint as sales,
    sum(quantity)::bigint as units,
    sum(amount)::numeric(14, 2) as revenue,
    round(avg(amount), 2)::numeric(14, 2) as avg_ticket,
    rank() over (order by sum(amount) desc)::integer as revenue_rank
from window_sales
group by {{ dimension }}
{%- endmacro %}
