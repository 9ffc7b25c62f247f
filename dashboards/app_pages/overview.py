"""Overview: the headline KPIs of the chosen period against the period before, and the daily trend."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header("Overview", snap)
filters.note(("dates", "sources", "channels", "categories", "regions"))
st_caption = (
    "Sessions and conversion honour the date range and traffic source only: a session has no channel, "
    "category or region."
)

prev_start, prev_end = f.previous()
now = queries.sales_totals(snap, f, f.start, f.end)
before = queries.sales_totals(snap, f, prev_start, prev_end)
funnel_now = queries.funnel_totals(snap, f, f.start, f.end)
funnel_before = queries.funnel_totals(snap, f, prev_start, prev_end)


def net(t: dict[str, int]) -> int:
    return t["gross_minor"] - t["discount_minor"] - t["returns_minor"]


def aov(t: dict[str, int]) -> float | None:
    return c.ratio(t["gross_minor"] - t["discount_minor"], t["orders"])


def money(v: float | None) -> str:
    return c.money(v, code)


cols = st.columns(4)
with cols[0]:
    c.kpi("Net revenue", net(now), net(before), money, help="Gross − discounts − returns")
with cols[1]:
    c.kpi("Orders", now["orders"], before["orders"], lambda v: f"{v:,}")
with cols[2]:
    c.kpi("Units", now["units"], before["units"], lambda v: f"{v:,}")
with cols[3]:
    c.kpi("Average order value", aov(now), aov(before), money)
cols = st.columns(4)
with cols[0]:
    c.kpi("Gross margin", net(now) - now["cogs_minor"], net(before) - before["cogs_minor"], money)
with cols[1]:
    c.kpi(
        "Margin %",
        c.ratio(net(now) - now["cogs_minor"], net(now)),
        c.ratio(net(before) - before["cogs_minor"], net(before)),
        c.pct,
        points=True,
    )
with cols[2]:
    c.kpi("Sessions", funnel_now["sessions"], funnel_before["sessions"], lambda v: f"{v:,}")
with cols[3]:
    c.kpi(
        "Conversion rate",
        c.ratio(funnel_now["purchase_sessions"], funnel_now["sessions"]),
        c.ratio(funnel_before["purchase_sessions"], funnel_before["sessions"]),
        lambda v: c.pct(v, 2),
        points=True,
    )
st.caption(
    f"Change against {prev_start:%Y-%m-%d} … {prev_end:%Y-%m-%d}, the {f.days} days before. {st_caption}"
)

daily = queries.sales_daily(snap, f)
if daily.empty:
    c.empty("No sales in the chosen period.")
else:
    daily = daily.assign(net_minor=daily.gross_minor - daily.discount_minor - daily.returns_minor)
    shown = c.amounts(daily, code)
    base = alt.Chart(shown).encode(x=alt.X("day:T", title="Store-local day", axis=alt.Axis(format="%b %d")))
    bars = base.mark_bar(opacity=0.8).encode(
        y=alt.Y("net_amount:Q", axis=alt.Axis(**c.money_axis(code)), title=f"Net revenue ({code})"),
        tooltip=[
            alt.Tooltip("day:T"),
            alt.Tooltip("net_amount:Q", format=",.2f", title="net"),
            alt.Tooltip("orders:Q"),
            alt.Tooltip("units:Q"),
        ],
    )
    line = base.mark_line(color="#e45756", point=True).encode(y=alt.Y("orders:Q", title="Paid orders"))
    c.chart(
        alt.layer(bars, line)
        .resolve_scale(y="independent")
        .properties(height=300, title="Net revenue and orders per day"),
        key="overview_daily",
    )

c.drilldown(snap, "net revenue", "net_revenue", "net_minor", net(now), f, key="ov_net")
c.drilldown(snap, "orders", "orders", "orders", now["orders"], f, key="ov_orders", money_check=False)
c.drilldown(snap, "units", "sale_lines", "quantity", now["units"], f, key="ov_units", money_check=False)
c.drilldown(
    snap, "gross margin", "net_revenue", "margin_minor", net(now) - now["cogs_minor"], f, key="ov_margin"
)
c.drilldown(
    snap,
    "sessions",
    "sessions",
    "sessions",
    funnel_now["sessions"],
    f.only("sources"),
    key="ov_sessions",
    money_check=False,
)
c.explain(
    "net_revenue",
    "gross",
    "discounts",
    "returns",
    "orders",
    "units",
    "aov",
    "cogs",
    "gross_margin",
    "sessions",
    "conversion",
)
