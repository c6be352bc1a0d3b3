"""LiftOff Data's Streamlit app: sales entry (form and CSV upload) and the gold dashboards.

Start it with `make app` (or `liftoff app`): that bootstraps the warehouse roles and hands
this app two connections, the form's as ``entry_writer`` and the dashboards' as ``analyst``.

With ``LIFTOFF_ENTRY_LOGIN=required`` (the team deployment) every page is behind a login: a
seller's own warehouse role (``liftoff deployment seller add``), checked by PostgreSQL
itself, on the entry writer's server and database. Sales are then entered as that person
(``raw_entry.sales.entered_by``). The login lives in this session's state, on the server.
"""

import time

import psycopg
import streamlit as st
from pydantic import SecretStr

from liftoff.config import ConfigError, Unavailable, disable_telemetry, get_settings
from liftoff.entry import connections

# Whose login the app accepts: a role that is a member of the entry writer (a seller).
SELLER_CHECK = (
    "select exists (select 1 from pg_catalog.pg_auth_members m"
    " join pg_catalog.pg_roles g on g.oid operator(pg_catalog.=) m.roleid"
    " join pg_catalog.pg_roles r on r.oid operator(pg_catalog.=) m.member"
    " where g.rolname operator(pg_catalog.=) %s and r.rolname operator(pg_catalog.=) session_user)"
)
REFUSED = "Wrong name or password."


def log_in(name: str, password: str) -> str | None:
    """Log ``name`` in (kept in the session's state); the reason in one line when refused."""
    settings = get_settings()
    if not name or not password:
        return REFUSED
    try:
        person = connections.entry_writer(settings).as_role(name, SecretStr(password))
        with person.connect() as conn:
            seller = conn.execute(SELLER_CHECK, (settings.entry_writer_role,)).fetchone()[0]
    except ConfigError:  # PostgreSQL refused the name or the password: no more detail shown
        time.sleep(1)  # a guess costs a second
        return REFUSED
    except (Unavailable, psycopg.Error):
        return "The warehouse is not reachable: try again in a moment."
    if not seller or name == settings.entry_writer_role:
        return f"{name} is not a seller's login."
    st.session_state.seller = person
    return None


disable_telemetry()
st.set_page_config(page_title="LiftOff Data", page_icon=":material/rocket_launch:", layout="wide")
if get_settings().entry_login == "required":
    if st.session_state.get("seller") is None:
        st.title("LiftOff Data")
        with st.form("login"):
            name = st.text_input("Name", key="login_name", autocomplete="username")
            password = st.text_input(
                "Password", type="password", key="login_password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("Log in", type="primary")
        if submitted:
            if (refused := log_in(name.strip(), password)) is None:
                st.rerun()
            st.error(refused)
        st.stop()
    st.sidebar.caption(f"Logged in as **{st.session_state.seller.user}**")
    if st.sidebar.button("Log out"):
        del st.session_state["seller"]
        st.rerun()
page = st.navigation(
    [
        st.Page("views/enter_sale.py", title="Enter a sale", icon=":material/add_shopping_cart:"),
        st.Page("views/upload_sales.py", title="Upload sales (CSV)", icon=":material/upload_file:"),
        st.Page("views/dashboards.py", title="Dashboards", icon=":material/monitoring:"),
    ]
)
page.run()
