"""Upload a CSV of sales: every row checked by the ``Sale`` contract; the accepted ones
are saved in one transaction, the rejected ones can be downloaded with their errors."""

from pathlib import Path

import pandas as pd
import psycopg
import streamlit as st

from liftoff.config import ConfigError, Unavailable, get_settings
from liftoff.entry import connections
from liftoff.entry.bulk import COLUMNS, MAX_ROWS, MAX_UPLOAD_MB, UploadError, check_upload
from liftoff.entry.dashboards import product_names
from liftoff.entry.form import SOURCE, STREAM
from liftoff.ingest.push import push_records

st.title("Upload sales (CSV)")
st.caption(
    f"A header with {', '.join(f'`{c}`' for c in COLUMNS)}; `sold_at` in ISO-8601 with its UTC offset"
    f" (`2026-11-20T14:30:00+00:00`); at most {MAX_ROWS:,} rows and {MAX_UPLOAD_MB} MB."
    " Uploading a file again saves nothing twice."
)
settings = get_settings()
# As the logged-in seller with LIFTOFF_ENTRY_LOGIN=required (app.py's login), else the entry writer.
writer = st.session_state.get("seller") if settings.entry_login == "required" else None
if settings.entry_login == "required" and writer is None:
    st.error("Log in first.")
    st.stop()
try:
    with connections.analyst(settings).connect() as conn:
        products = set(product_names(conn))
except (ConfigError, Unavailable, psycopg.Error) as exc:
    st.error(f"The warehouse is not reachable: {exc}")
    st.stop()

upload = st.file_uploader("Sales CSV", type=["csv"], key="upload")
if upload is None:
    st.stop()
try:
    upload.seek(0)  # read as a stream, from the start (a rerun may have read it before)
    checked = check_upload(upload, products)
except UploadError as exc:
    st.error(f"{upload.name}: {exc}. Nothing was saved.")
    st.stop()

accepted_column, rejected_column = st.columns(2)
accepted_column.metric("Accepted rows", len(checked.accepted))
rejected_column.metric("Rejected rows", len(checked.rejected))
if checked.rejected:
    st.subheader("Rejected rows")
    st.dataframe(
        pd.DataFrame([{"line": r.line, **r.row, "errors": r.reason} for r in checked.rejected[:200]]),
        hide_index=True,
    )
    st.download_button(
        "Download the rejected rows with their errors",
        checked.rejects_csv(),
        file_name=f"{Path(upload.name).stem}.rejected.csv",
        mime="text/csv",
    )
if not checked.accepted:
    st.warning("No row passed the contract: nothing to save.")
    st.stop()
st.subheader("Accepted rows")
st.dataframe(pd.DataFrame([sale.model_dump(mode="json") for sale in checked.accepted[:200]]), hide_index=True)
if st.button(f"Save the {len(checked.accepted)} accepted sales", type="primary"):
    try:
        with (writer or connections.entry_writer(settings)).connect() as conn:
            new = push_records(conn, SOURCE, STREAM, checked.accepted)
    except (ConfigError, Unavailable, psycopg.Error) as exc:
        st.error(f"Nothing was saved, try again: {exc}")
        st.stop()
    already = len(checked.accepted) - new
    st.success(f"Saved {new} sales" + (f"; {already} were already saved before." if already else "."))
