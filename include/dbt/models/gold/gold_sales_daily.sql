{{
    config(
        indexes=[{'columns': ['sale_date'], 'unique': true}],
        pre_hook="{{ delete_slice('sale_date', run_day() ~ ' - ' ~ var('gold_daily_lookback_days'), run_day() ~ ' + 1') }}",
    )
}}

-- Daily totals for the run's day and the lookback days before it (late corrections),
-- outliers left out.
select
    sale_date,
    count(*)::bigint as sales,
    sum(quantity)::bigint as units,
    sum(amount)::numeric(14, 2) as revenue,
    round(avg(amount), 2)::numeric(14, 2) as avg_ticket,
    count(distinct seller_email)::bigint as active_sellers
from {{ ref('silver_sales') }}
where sale_date between {{ run_day() }} - {{ var("gold_daily_lookback_days") }} and {{ run_day() }}
  and not is_outlier
group by sale_date
