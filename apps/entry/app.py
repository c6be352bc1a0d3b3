"""LiftOff Data's Streamlit app: sales entry (form and CSV upload) and the gold dashboards.

Start it with `make app` (or `liftoff app`): that bootstraps the warehouse roles and hands
this app two connections, the form's as ``entry_writer`` and the dashboards' as ``analyst``.
"""

import streamlit as st

from liftoff.config import disable_telemetry

disable_telemetry()
st.set_page_config(page_title="LiftOff Data", page_icon=":material/rocket_launch:", layout="wide")
page = st.navigation(
    [
        st.Page("views/enter_sale.py", title="Enter a sale", icon=":material/add_shopping_cart:"),
        st.Page("views/upload_sales.py", title="Upload sales (CSV)", icon=":material/upload_file:"),
        st.Page("views/dashboards.py", title="Dashboards", icon=":material/monitoring:"),
    ]
)
page.run()
