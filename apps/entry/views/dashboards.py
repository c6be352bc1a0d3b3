"""Gold, as analysts read it: product and seller performance over 7 days, the daily trend,
and today so far from the shops' terminals (a preview)."""

from datetime import UTC, datetime, timedelta

import psycopg
import streamlit as st

from liftoff.config import ConfigError, Unavailable, get_settings
from liftoff.entry import connections
from liftoff.entry.dashboards import (
    TREND_DAYS,
    daily_trend,
    days_with_data,
    freshness,
    product_performance,
    seller_ranking,
    today_so_far,
)

STALE_AFTER = timedelta(hours=36)  # a daily pipeline that has missed a day
MONEY = st.column_config.NumberColumn(format="%.2f")
MONEY_COLUMNS = {"revenue": MONEY, "avg_ticket": MONEY}


def ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


st.title("Sales dashboards")
try:
    with connections.analyst(get_settings()).connect() as conn:
        refresh, span = freshness(conn), days_with_data(conn)
        if span is None:
            st.info("No gold data yet: run the `sales_elt` DAG (or `make demo`).")
            st.stop()
        if refresh is not None:
            age = datetime.now(UTC) - refresh.refreshed_at
            line = (
                f"Data through **{refresh.run_day}** · refreshed {refresh.refreshed_at:%Y-%m-%d %H:%M} UTC"
                f" ({ago(age)}) by run `{refresh.run_id}`"
            )
            (st.warning if age > STALE_AFTER else st.caption)(line)
        day = st.date_input(
            "Reference day", value=span[1], min_value=span[0], max_value=span[1], format="YYYY-MM-DD"
        )
        products, sellers, trend, today = (
            product_performance(conn, day),
            seller_ranking(conn, day),
            daily_trend(conn, day),
            today_so_far(conn),
        )
except (ConfigError, Unavailable, psycopg.Error) as exc:
    st.error(f"The warehouse is not reachable: {exc}")
    st.stop()

products_column, sellers_column = st.columns(2)
with products_column:
    st.subheader(f"Product performance, 7 days to {day}")
    if products.empty:
        st.info("No sales in these 7 days.")
    else:
        st.bar_chart(products, x="product", y="revenue", horizontal=True, sort="-revenue")
        st.dataframe(products, hide_index=True, column_config=MONEY_COLUMNS)
with sellers_column:
    st.subheader(f"Seller ranking, 7 days to {day}")
    if sellers.empty:
        st.info("No sales in these 7 days.")
    else:
        st.bar_chart(sellers.head(10), x="seller", y="revenue", horizontal=True, sort="-revenue")
        st.dataframe(sellers, hide_index=True, column_config=MONEY_COLUMNS)
st.subheader(f"Daily trend, {TREND_DAYS} days to {day}")
st.line_chart(trend, x="sale_date", y="revenue")
st.dataframe(trend, hide_index=True, column_config=MONEY_COLUMNS)

if today is not None:
    st.subheader("Today so far, from the shops' terminals (preview)")
    if today.empty:
        st.caption("No point-of-sale sales yet today (UTC).")
    else:
        st.caption(
            f"{int(today['sales'].sum())} sales, latest received"
            f" {today['last_sale_at'].max():%H:%M:%S} UTC; refreshed within a minute of each sale."
            " The day's run, once the day is over, is the truth."
        )
        st.dataframe(today.drop(columns="last_sale_at"), hide_index=True, column_config=MONEY_COLUMNS)
