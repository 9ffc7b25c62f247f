"""Sales (ANA-1): revenue, orders, AOV and units over time; top products and categories; trends."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header("Sales", snap, "Revenue, orders, average order value and units over time; what sells best.")
filters.note(("dates", "sources", "channels", "categories", "regions"))

prev_start, prev_end = f.previous()
now = queries.sales_totals(snap, f, f.start, f.end)
before = queries.sales_totals(snap, f, prev_start, prev_end)


def money(v: float | None) -> str:
    return c.money(v, code)


def net(t: dict[str, int]) -> int:
    return t["gross_minor"] - t["discount_minor"] - t["returns_minor"]


cols = st.columns(4)
with cols[0]:
    c.kpi("Gross sales", now["gross_minor"], before["gross_minor"], money)
with cols[1]:
    c.kpi("Discounts", now["discount_minor"], before["discount_minor"], money, inverse=True)
with cols[2]:
    c.kpi("Returns", now["returns_minor"], before["returns_minor"], money, inverse=True)
with cols[3]:
    c.kpi("Net revenue", net(now), net(before), money)

daily = queries.sales_daily(snap, f)
if daily.empty:
    c.empty("No sales in the chosen period.")
else:
    daily = daily.assign(
        sales_minor=daily.gross_minor - daily.discount_minor,
        net_minor=daily.gross_minor - daily.discount_minor - daily.returns_minor,
    )
    shown = c.amounts(daily, code)
    shown["aov_amount"] = (shown.sales_amount / shown.orders.where(shown.orders > 0)).round(2)
    shown["net_7d_amount"] = shown.net_amount.rolling(7, min_periods=1).mean()
    x = alt.X("day:T", title="Store-local day", axis=alt.Axis(format="%b %d"))
    left, right = st.columns(2)
    with left:
        stacked = shown.melt(id_vars=["day"], value_vars=["sales_amount", "returns_amount"], var_name="part")
        stacked.loc[stacked.part == "returns_amount", "value"] *= -1
        stacked["part"] = stacked.part.map(
            {"sales_amount": "sales after discounts", "returns_amount": "returns"}
        )
        bars = (
            alt.Chart(stacked)
            .mark_bar()
            .encode(
                x=x,
                y=alt.Y("value:Q", axis=alt.Axis(**c.money_axis(code)), title=code),
                color=alt.Color("part:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=[alt.Tooltip("day:T"), alt.Tooltip("part:N"), alt.Tooltip("value:Q", format=",.2f")],
            )
        )
        trend = alt.Chart(shown).mark_line(color="black").encode(x=x, y=alt.Y("net_7d_amount:Q"))
        c.chart(
            (bars + trend).properties(height=280, title="Net revenue per day (line: 7-day average)"),
            key="sales_net",
        )
    with right:
        base = alt.Chart(shown).encode(x=x)
        c.chart(
            alt.layer(
                base.mark_bar(color="#9ecae9").encode(y=alt.Y("units:Q", title="Units")),
                base.mark_line(color="#f58518", point=True).encode(
                    y=alt.Y("aov_amount:Q", title=f"AOV ({code})"),
                    tooltip=[
                        alt.Tooltip("day:T"),
                        alt.Tooltip("orders:Q"),
                        alt.Tooltip("units:Q"),
                        alt.Tooltip("aov_amount:Q", format=",.2f"),
                    ],
                ),
            )
            .resolve_scale(y="independent")
            .properties(height=280, title="Units (bars) and average order value (line) per day"),
            key="sales_units_aov",
        )

labels = queries.category_labels(snap)
left, right = st.columns(2)
with left:
    st.subheader("Top products")
    top = queries.top_products(snap, f)
    if top.empty:
        c.empty("No products sold in the chosen period.")
    else:
        names = queries.product_labels(snap)
        top["category"] = top.category_id.map(lambda v: labels.get(v, v))
        top.insert(0, "product", top.product_id.map(lambda v: names.get(v, v)))
        shown = c.amounts(top, code)
        c.chart(
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y("product:N", sort="-x", title=None),
                x=alt.X("sales_amount:Q", title=f"Sales after discounts ({code})"),
                color=alt.Color("category:N", legend=None),
                tooltip=[
                    alt.Tooltip("product"),
                    alt.Tooltip("product_id"),
                    alt.Tooltip("category"),
                    alt.Tooltip("orders"),
                    alt.Tooltip("units"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=320),
            key="sales_top_products",
        )
        c.table(shown, "top-products", key="top_products")
with right:
    st.subheader("Categories")
    cats = queries.sales_by(snap, f, "category_id")
    if cats.empty:
        c.empty("No category sold in the chosen period.")
    else:
        cats["category"] = cats.value.map(lambda v: labels.get(v, v))
        shown = c.amounts(cats.drop(columns="value"), code)
        c.chart(
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y("category:N", sort="-x", title=None),
                x=alt.X("sales_amount:Q", title=f"Sales after discounts ({code})"),
                tooltip=[
                    alt.Tooltip("category"),
                    alt.Tooltip("orders"),
                    alt.Tooltip("units"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=320),
            key="sales_categories",
        )
        c.table(shown, "sales-by-category", key="sales_by_category")

c.drilldown(snap, "gross sales", "sale_lines", "gross_minor", now["gross_minor"], f, key="sales_gross")
c.drilldown(
    snap,
    "discounts",
    "sale_lines",
    "discount_minor",
    now["discount_minor"],
    f,
    key="sales_disc",
    where="discount_minor",
)
c.drilldown(snap, "returns", "returns", "returns_minor", now["returns_minor"], f, key="sales_returns")
c.drilldown(snap, "net revenue", "net_revenue", "net_minor", net(now), f, key="sales_net")
c.explain("gross", "discounts", "returns", "net_revenue", "orders", "units", "aov", "product_sales")
