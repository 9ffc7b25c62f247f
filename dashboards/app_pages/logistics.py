"""Logistics: dispatch against the promise, on-time delivery by carrier, exceptions."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header(
    "Logistics", snap, "Parcels by the store-local day shipped: dispatch and delivery against the promise."
)
filters.note(
    ("dates", "regions"),
    "a parcel is not tied to one category, and is shipped whatever the channel or source",
)
lf = f.only("regions")

prev_start, prev_end = f.previous()
now = queries.logistics_totals(snap, lf, f.start, f.end)
before = queries.logistics_totals(snap, lf, prev_start, prev_end)


def share(t: dict, num: str, den: str) -> float | None:
    return c.ratio(t[num] or 0, t[den] or 0)


cols = st.columns(5)
with cols[0]:
    c.kpi("Parcels shipped", int(now["shipments"]), int(before["shipments"]), lambda v: f"{v:,}")
with cols[1]:
    c.kpi(
        "Dispatched on time",
        share(now, "dispatched_on_time", "shipments"),
        share(before, "dispatched_on_time", "shipments"),
        c.pct,
        points=True,
    )
with cols[2]:
    c.kpi(
        "Delivered on time",
        share(now, "delivered_on_time", "delivered"),
        share(before, "delivered_on_time", "delivered"),
        c.pct,
        points=True,
    )
with cols[3]:
    c.kpi(
        "Median transit",
        now["median_transit_days"],
        before["median_transit_days"],
        lambda v: "–" if v is None or v != v else f"{v:.1f} days",
        inverse=True,
    )
with cols[4]:
    c.kpi("Exceptions", int(now["exceptions"]), int(before["exceptions"]), lambda v: f"{v:,}", inverse=True)

left, right = st.columns(2)
with left:
    carriers = queries.by_carrier(snap, lf)
    if carriers.empty:
        c.empty("No parcels shipped in the chosen period.")
    else:
        carriers["on_time_delivery"] = carriers.delivered_on_time / carriers.delivered.where(
            carriers.delivered > 0
        )
        carriers["on_time_dispatch"] = carriers.dispatched_on_time / carriers.shipments
        long = carriers.melt(
            id_vars=["carrier"], value_vars=["on_time_dispatch", "on_time_delivery"], var_name="measure"
        )
        c.chart(
            alt.Chart(long)
            .mark_bar()
            .encode(
                y=alt.Y("carrier:N", title=None),
                x=alt.X(
                    "value:Q", axis=alt.Axis(format=".0%"), title="On time", scale=alt.Scale(domain=[0, 1])
                ),
                yOffset=alt.YOffset("measure:N"),
                color=alt.Color("measure:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=[
                    alt.Tooltip("carrier"),
                    alt.Tooltip("measure"),
                    alt.Tooltip("value:Q", format=".1%"),
                ],
            )
            .properties(height=260, title="On time by carrier"),
            key="carriers",
        )
        c.table(carriers, "carriers", key="carriers")
with right:
    weekly = queries.shipped_weekly(snap, lf)
    if not weekly.empty:
        weekly["on_time_dispatch"] = weekly.dispatched_on_time / weekly.shipments
        c.chart(
            alt.Chart(weekly)
            .mark_line(point=True)
            .encode(
                x=alt.X("week:T", title="Week shipped (Monday)"),
                y=alt.Y("on_time_dispatch:Q", axis=alt.Axis(format=".0%"), title="Dispatched on time"),
                color=alt.Color("carrier_code:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=[
                    alt.Tooltip("week:T"),
                    alt.Tooltip("carrier_code"),
                    alt.Tooltip("shipments"),
                    alt.Tooltip("on_time_dispatch:Q", format=".1%"),
                ],
            )
            .properties(height=260, title="Dispatch on time by week"),
            key="weekly",
        )
        st.caption(
            "Weeks are whole weeks from the delivery-performance mart, so the first and last may reach past the range."
        )

c.drilldown(
    snap,
    "parcels shipped",
    "shipments",
    "shipments",
    int(now["shipments"]),
    lf,
    key="log_ship",
    money_check=False,
)
c.drilldown(
    snap,
    "parcels dispatched on time",
    "shipments",
    "dispatched_on_time",
    int(now["dispatched_on_time"]),
    lf,
    key="log_dispatch",
    where="dispatched_on_time",
    money_check=False,
)
c.drilldown(
    snap,
    "exceptions",
    "shipments",
    "exceptions",
    int(now["exceptions"]),
    lf,
    key="log_exceptions",
    where="exceptions",
    money_check=False,
)
c.explain("dispatch_on_time", "delivery_on_time", "transit", "exceptions")
