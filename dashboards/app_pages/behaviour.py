"""Customers & behaviour (ANA-2): sessions, the funnel, conversion, cohort retention and repeat purchase."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header("Customers & behaviour", snap, "Sessions, the browse → cart → checkout → purchase funnel, cohorts.")
filters.note(("dates", "sources"), "a session carries no sales channel, category or region")
sf = f.only("sources")

prev_start, prev_end = f.previous()
now = queries.funnel_totals(snap, sf, f.start, f.end)
before = queries.funnel_totals(snap, sf, prev_start, prev_end)


def rate(t: dict[str, int], num: str, den: str) -> float | None:
    return c.ratio(t[num], t[den])


def abandonment(t: dict[str, int]) -> float | None:
    return c.ratio(t["add_to_cart"] - t["purchase_sessions"], t["add_to_cart"])


cols = st.columns(4)
with cols[0]:
    c.kpi("Sessions", now["sessions"], before["sessions"], lambda v: f"{v:,}")
with cols[1]:
    c.kpi(
        "Conversion rate",
        rate(now, "purchase_sessions", "sessions"),
        rate(before, "purchase_sessions", "sessions"),
        lambda v: c.pct(v, 2),
        points=True,
    )
with cols[2]:
    c.kpi("Cart abandonment", abandonment(now), abandonment(before), c.pct, points=True, inverse=True)
with cols[3]:
    c.kpi("Purchases (paid orders)", now["purchases"], before["purchases"], lambda v: f"{v:,}")

steps = pd.DataFrame(
    {
        "step": [
            "1 session",
            "2 view item",
            "3 add to cart",
            "4 begin checkout",
            "5 payment info",
            "6 purchase",
        ],
        "sessions": [
            now["sessions"],
            now["view_item"],
            now["add_to_cart"],
            now["begin_checkout"],
            now["add_payment_info"],
            now["purchase_sessions"],
        ],
    }
)
steps["share"] = steps.sessions / max(now["sessions"], 1)
left, right = st.columns(2)
with left:
    bars = alt.Chart(steps).encode(
        y=alt.Y("step:N", title=None, sort=None),
        x=alt.X("sessions:Q", title="Sessions reaching the step"),
        tooltip=[
            alt.Tooltip("step"),
            alt.Tooltip("sessions"),
            alt.Tooltip("share:Q", format=".2%", title="of sessions"),
        ],
    )
    c.chart(
        (
            bars.mark_bar()
            + bars.mark_text(align="left", dx=4).encode(text=alt.Text("share:Q", format=".1%"))
        ).properties(height=260, title="Funnel (label: share of sessions)"),
        key="funnel",
    )
with right:
    daily = queries.funnel_daily(snap, sf)
    if daily.empty:
        c.empty("No sessions in the chosen period.")
    else:
        daily["conversion"] = daily.purchase_sessions / daily.sessions.where(daily.sessions > 0)
        base = alt.Chart(daily).encode(
            x=alt.X("day:T", title="Store-local day the session started", axis=alt.Axis(format="%b %d"))
        )
        c.chart(
            alt.layer(
                base.mark_area(opacity=0.3).encode(y=alt.Y("sessions:Q", title="Sessions")),
                base.mark_line(color="#e45756", point=True).encode(
                    y=alt.Y("conversion:Q", axis=alt.Axis(format=".1%"), title="Conversion"),
                    tooltip=[
                        alt.Tooltip("day:T"),
                        alt.Tooltip("sessions:Q"),
                        alt.Tooltip("conversion:Q", format=".2%"),
                    ],
                ),
            )
            .resolve_scale(y="independent")
            .properties(height=260, title="Sessions (area) and conversion (line) per day"),
            key="funnel_daily",
        )

st.subheader("By traffic source and device")
left, right = st.columns(2)
for column, dim in ((left, "traffic_source"), (right, "device")):
    with column:
        seg = queries.funnel_by(snap, sf, dim)
        seg["conversion"] = seg.purchase_sessions / seg.sessions.where(seg.sessions > 0)
        shown = c.amounts(seg.rename(columns={"value": dim}), code)
        c.chart(
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y(f"{dim}:N", sort="-x", title=None),
                x=alt.X("conversion:Q", axis=alt.Axis(format=".1%"), title="Conversion"),
                tooltip=[
                    dim,
                    alt.Tooltip("sessions"),
                    alt.Tooltip("purchases"),
                    alt.Tooltip("conversion:Q", format=".2%"),
                ],
            )
            .properties(height=200),
            key=f"funnel_by_{dim}",
        )
        c.table(shown, f"funnel-by-{dim}", key=f"funnel_by_{dim}")

st.subheader("New and returning buyers")
nvr = queries.new_vs_returning(snap, f.only())
if nvr is None:
    st.info("Not built yet: needs `mart_new_vs_returning_daily`.", icon=":material/construction:")
elif nvr.empty:
    c.empty("No paid orders in the chosen period.")
else:
    st.caption("By the day the order became paid; honours the date range only (the mart has no other cut).")
    left, right = st.columns([3, 2])
    with left:
        c.chart(
            alt.Chart(c.amounts(nvr, code))
            .mark_bar()
            .encode(
                x=alt.X("day:T", title="Store-local day", axis=alt.Axis(format="%b %d")),
                y=alt.Y("orders:Q", title="Paid orders"),
                color=alt.Color("buyer_type:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=[
                    alt.Tooltip("day:T"),
                    alt.Tooltip("buyer_type"),
                    alt.Tooltip("orders"),
                    alt.Tooltip("buyers"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=240, title="Orders from new and returning buyers"),
            key="new_vs_returning",
        )
    with right:
        summary = nvr.groupby("buyer_type", as_index=False)[["orders", "sales_minor"]].sum()
        summary["share_of_orders"] = summary.orders / summary.orders.sum()
        c.table(c.amounts(summary, code), "new-vs-returning", key="nvr")

st.subheader("Cohort retention")
st.caption(
    "Cohorts ignore every filter: a cohort is all customers whose first paid order fell in the month, "
    "whatever they bought, where and how they arrived."
)
cohorts = queries.cohorts(snap)
if cohorts.empty:
    c.empty("No cohorts yet: no customer has a paid order.")
else:
    cohorts["cohort"] = pd.to_datetime(cohorts.cohort_month).dt.strftime("%Y-%m")
    cohorts["net_revenue_retention_rate"] = cohorts.net_revenue_retention_rate.astype("float64")
    cohorts["customer_retention_rate"] = cohorts.customer_retention_rate.astype("float64")
    left, right = st.columns(2)
    for column, field, title in (
        (left, "customer_retention_rate", "Customers with an order (share of the cohort)"),
        (right, "net_revenue_retention_rate", "Net revenue (share of month 0)"),
    ):
        with column:
            heat = alt.Chart(cohorts).encode(
                x=alt.X("months_since_first_order:O", title="Months since first order"),
                y=alt.Y("cohort:O", title="Cohort"),
            )
            c.chart(
                (
                    heat.mark_rect().encode(
                        color=alt.Color(f"{field}:Q", scale=alt.Scale(scheme="blues"), legend=None),
                        tooltip=[
                            alt.Tooltip("cohort"),
                            alt.Tooltip("months_since_first_order"),
                            alt.Tooltip("cohort_customers"),
                            alt.Tooltip("active_customers"),
                            alt.Tooltip("orders"),
                            alt.Tooltip(f"{field}:Q", format=".1%"),
                        ],
                    )
                    + heat.mark_text(baseline="middle").encode(text=alt.Text(f"{field}:Q", format=".0%"))
                ).properties(height=max(120, 32 * cohorts.cohort.nunique()), title=title),
                key=f"cohort_{field}",
            )
    c.table(c.amounts(cohorts.drop(columns="cohort"), code), "cohort-retention", key="cohorts")
    latest = cohorts.iloc[-1]
    c.drilldown(
        snap,
        f"orders of cohort {latest.cohort}, month {int(latest.months_since_first_order)}",
        "cohort_orders",
        "orders",
        int(latest.orders),
        None,
        key="cohort_orders",
        money_check=False,
        cohort_month=pd.Timestamp(latest.cohort_month).date(),
        activity_month=pd.Timestamp(latest.activity_month).date(),
    )

st.subheader("Repeat purchase")
repeat = queries.repeat_purchase(snap)
if repeat.empty:
    c.empty("No repeat purchase figures yet.")
else:
    c.table(repeat, "repeat-purchase", key="repeat")

c.drilldown(
    snap, "sessions", "sessions", "sessions", now["sessions"], sf, key="beh_sessions", money_check=False
)
c.drilldown(
    snap,
    "purchases",
    "sessions",
    "purchases",
    now["purchases"],
    sf,
    key="beh_purchases",
    where="purchases",
    money_check=False,
)
c.explain("sessions", "funnel", "conversion", "cart_abandonment", "cohort", "repeat_purchase")
