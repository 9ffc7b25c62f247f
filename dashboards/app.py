"""The Emporium dashboards: ``streamlit run dashboards/app.py``.

The picture frame of the multipage app: it finds the published marts, draws
the global filters in the sidebar, and runs the chosen page. Each page reads
through ``dashboards.queries`` only.
"""

from __future__ import annotations

import time

import duckdb
import streamlit as st

from dashboards import components, filters, queries
from dashboards.config import marts_path

PAGES = {
    "Analytics": [
        ("app_pages/overview.py", "Overview", ":material/dashboard:", True),
        ("app_pages/sales.py", "Sales", ":material/point_of_sale:", False),
        ("app_pages/behaviour.py", "Customers & behaviour", ":material/groups:", False),
        ("app_pages/market.py", "Market", ":material/storefront:", False),
    ],
    "Operations": [
        ("app_pages/inventory.py", "Inventory", ":material/inventory_2:", False),
        ("app_pages/finance.py", "Finance", ":material/account_balance:", False),
        ("app_pages/logistics.py", "Logistics", ":material/local_shipping:", False),
    ],
}
MAX_RETRIES = 3


def _nothing_published() -> None:
    st.title("Emporium analytics")
    st.info(
        f"No marts are published yet at `{marts_path()}`. Build the demo and materialize the assets "
        "(see the README), or point `EMPORIUM_MARTS` at a published marts file; this page picks it up "
        "as soon as it appears.",
        icon=":material/hourglass_empty:",
    )
    if st.button("Check again"):
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="Emporium analytics", page_icon=":material/monitoring:", layout="wide")
    snap = queries.snapshot()
    if snap is None:
        st.navigation([st.Page(_nothing_published, title="Emporium analytics")]).run()
        return
    pages = {
        section: [
            st.Page(path, title=title, icon=icon, default=default) for path, title, icon, default in entries
        ]
        for section, entries in PAGES.items()
    }
    page = st.navigation(pages)
    started = time.perf_counter()
    run_no = st.session_state.get("_run_no", 0) + 1
    st.session_state["_run_no"] = run_no
    try:
        components.set_context(snap, filters.sidebar(snap))
        page.run()
        components.done_marker(snap, run_no, time.perf_counter() - started)
    except queries.PublicationChanged:
        # A publish landed mid-render: draw the page again, wholly from the new file.
        _retry()
    except duckdb.IOException:
        # The file went away or was swapped between the stat and the open: look again.
        _retry()
    else:
        st.session_state["_retries"] = 0


def _retry() -> None:
    retries = st.session_state.get("_retries", 0)
    if retries >= MAX_RETRIES:
        st.warning("The marts file keeps changing while this page reads it; showing what was read.")
        st.session_state["_retries"] = 0
        return
    st.session_state["_retries"] = retries + 1
    st.rerun()


main()
