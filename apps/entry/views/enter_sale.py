"""Enter one sale. The ``Sale`` contract checks it; only a valid sale is saved, once."""

from datetime import UTC, datetime, time

import psycopg
import streamlit as st

from liftoff.config import ConfigError, Unavailable, get_settings
from liftoff.entry import connections
from liftoff.entry.dashboards import product_names
from liftoff.entry.form import FIELD_LABELS, SOURCE, STREAM, check_sale, new_entry_key
from liftoff.ingest.push import push_records

st.title("Enter a sale")
settings = get_settings()
# As the logged-in seller with LIFTOFF_ENTRY_LOGIN=required (app.py's login), else the entry writer.
writer = st.session_state.get("seller") if settings.entry_login == "required" else None
if settings.entry_login == "required" and writer is None:
    st.error("Log in first.")
    st.stop()
state = st.session_state
try:
    with connections.analyst(settings).connect() as conn:
        products = product_names(conn)
except (ConfigError, Unavailable, psycopg.Error) as exc:
    st.error(f"The warehouse is not reachable: {exc}")
    st.stop()
if not products:
    st.warning("No products yet: the catalogue arrives with the first pipeline run (`make demo`).")

# One key per form fill: a double click or a resubmitted form saves the sale once.
state.setdefault("entry_key", new_entry_key())

if saved := state.get("entry_saved"):
    if saved["new"]:
        st.success(f"Sale **{saved['key']}** saved. It reaches the dashboards after the next daily run.")
        for warning in saved.get("warnings", []):
            st.warning(f"Saved, but: {warning}.")
    else:
        st.info(f"Sale **{saved['key']}** was already saved: nothing was added.")
    if st.button("Enter another sale", type="primary"):
        state.entry_key = new_entry_key()
        del state["entry_saved"]
        st.rerun()
    st.stop()

now = datetime.now(UTC)
slots = {}
with st.form("sale"):
    seller_email = st.text_input(FIELD_LABELS["seller_email"], key="seller_email", placeholder="ana@co.com")
    slots["seller_email"] = st.empty()
    day_column, time_column = st.columns(2)
    sold_on = day_column.date_input("Sale date (UTC)", value=now.date(), key="sold_on", format="YYYY-MM-DD")
    sold_time = time_column.time_input(
        "Sale time (UTC)", value=time(now.hour, now.minute), key="sold_time", step=60
    )
    slots["sold_at"] = st.empty()
    amount = st.number_input(FIELD_LABELS["amount"], value=0.0, step=0.01, format="%.2f", key="amount")
    slots["amount"] = st.empty()
    quantity = st.number_input(FIELD_LABELS["quantity"], value=1, step=1, key="quantity")
    slots["quantity"] = st.empty()
    product = st.selectbox(
        FIELD_LABELS["product"], products, index=None, placeholder="Choose a product", key="product"
    )
    slots["product"] = st.empty()
    submitted = st.form_submit_button("Save sale", type="primary")

if submitted:
    now = datetime.now(UTC)
    sold_at = datetime.combine(sold_on, sold_time, tzinfo=UTC) if sold_on and sold_time else None
    checked = check_sale(
        state.entry_key,
        seller_email=seller_email,
        sold_at=sold_at,
        amount=amount,
        quantity=quantity,
        product=product,
        products=set(products),
        now=now,
    )
    if checked.sale is None:
        for name, message in checked.errors.items():
            slots.get(name, st).error(f"{FIELD_LABELS.get(name, name)}: {message}", icon=":material/error:")
        st.error("Nothing was saved: correct the fields marked above.")
        st.stop()
    try:
        with (writer or connections.entry_writer(settings)).connect() as conn:
            new = push_records(conn, SOURCE, STREAM, [checked.sale], extracted_at=now)
    except (ConfigError, Unavailable, psycopg.Error) as exc:
        st.error(f"The sale was not saved, try again: {exc}")
        st.stop()
    state.entry_saved = {"key": state.entry_key, "new": new > 0, "warnings": checked.warnings}
    st.rerun()
