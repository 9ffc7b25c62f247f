"""Market (ANA-3): demand by category, region, traffic source and sales channel; price and discount effects."""

from __future__ import annotations

from dataclasses import replace

import altair as alt
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header("Market", snap, "Where demand comes from, and how it moves with price and discounts.")
filters.note(("dates", "sources", "channels", "categories", "regions"))
st.caption(
    "Discount bands honour the date range and sales channel only; price periods the date range and "
    "category; traffic demand the date range and traffic source (what each mart is cut by)."
)

missing = queries.market_missing(snap)
if missing:
    st.warning(
        "Not built yet: this publication lacks " + ", ".join(f"`{t}`" for t in missing) + ". The sections "
        "that need them appear after the next publish that includes them; demand by segment falls back to "
        "the order lines meanwhile.",
        icon=":material/construction:",
    )

has_demand = snap.has("mart_market_demand_daily")
if has_demand:
    prev_start, prev_end = f.previous()
    totals = queries.market_demand_totals(snap, f)
    before = queries.market_demand_totals(snap, replace(f, start=prev_start, end=prev_end))
    cols = st.columns(3)
    with cols[0]:
        c.kpi("Demand (units)", totals["units"], before["units"], lambda v: f"{v:,}")
    with cols[1]:
        c.kpi(
            "Sales after discounts", totals["sales_minor"], before["sales_minor"], lambda v: c.money(v, code)
        )
    with cols[2]:
        c.kpi(
            "Net of the lines' returns", totals["net_minor"], before["net_minor"], lambda v: c.money(v, code)
        )
dims = {
    "Category": "category_name" if has_demand else "category_id",
    "Region": "ship_region",
    "Traffic source": "traffic_source",
    "Sales channel": "sales_channel",
}
labels = queries.category_labels(snap)
st.subheader("Demand by segment")
# One cut at a time: drawing all four (as tabs would) costs a page load four charts and four tables.
title = st.segmented_control("Cut demand by", list(dims), default="Category", key="market_dim") or "Category"
dim = dims[title]
seg = queries.market_demand_by(snap, f, dim) if has_demand else queries.sales_by(snap, f, dim)
if seg.empty:
    c.empty("No demand in the chosen period.")
else:
    if dim == "category_id":
        seg["value"] = seg.value.map(lambda v: labels.get(v, v))
    seg = seg.rename(columns={"value": title.lower()})
    shown = c.amounts(seg, code).head(25)
    left, right = st.columns([3, 2])
    with left:
        c.chart(
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y(f"{title.lower()}:N", sort="-x", title=None),
                x=alt.X("sales_amount:Q", title=f"Sales after discounts ({code})"),
                tooltip=[
                    title.lower(),
                    alt.Tooltip("orders"),
                    alt.Tooltip("units"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=max(160, 24 * len(shown)), title=f"Top {len(shown)} by sales"),
            key="market_segment",
        )
    with right:
        c.table(c.amounts(seg, code), f"demand-by-{dim}", key="market_segment", height=320)

if has_demand:
    weekly = queries.market_demand_weekly(snap, f)
    if not weekly.empty:
        c.chart(
            alt.Chart(c.amounts(weekly, code))
            .mark_bar()
            .encode(
                x=alt.X("week:O", timeUnit="yearmonthdate", title="Week (Monday) of the paid day"),
                y=alt.Y("sales_amount:Q", stack=True, title=f"Sales after discounts ({code})"),
                color=alt.Color("category:N", legend=alt.Legend(orient="right", title=None)),
                tooltip=[
                    alt.Tooltip("week:T"),
                    alt.Tooltip("category"),
                    alt.Tooltip("units"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=280, title="Demand by category over time"),
            key="market_weekly",
        )
    c.drilldown(
        snap,
        "demand (units)",
        "market_lines",
        "quantity",
        totals["units"],
        f,
        key="mkt_units",
        money_check=False,
    )
    c.drilldown(
        snap,
        "demand (sales after discounts)",
        "market_lines",
        "sales_minor",
        totals["sales_minor"],
        f,
        key="mkt_sales",
    )

st.subheader("Discounts")
if snap.has("mart_discount_bands_daily"):
    bands = queries.discount_bands(snap, f.only("channels"))
    if bands.empty:
        c.empty("No sales in the chosen period.")
    else:
        bands["units_per_line"] = bands.units / bands.order_lines.where(bands.order_lines > 0)
        bands["depth"] = bands.discount_minor / bands.gross_minor.where(bands.gross_minor > 0)
        shown = c.amounts(bands, code)
        left, right = st.columns(2)
        with left:
            c.chart(
                alt.Chart(shown)
                .mark_bar()
                .encode(
                    x=alt.X("discount_band:N", sort=None, title="Discount depth of the line"),
                    y=alt.Y("units:Q", title="Units"),
                    tooltip=[
                        alt.Tooltip("discount_band"),
                        alt.Tooltip("order_lines"),
                        alt.Tooltip("units"),
                        alt.Tooltip("depth:Q", format=".1%"),
                    ],
                )
                .properties(height=240, title="Units sold by discount depth"),
                key="bands_units",
            )
        with right:
            c.chart(
                alt.Chart(shown)
                .mark_line(point=True)
                .encode(
                    x=alt.X("discount_band:N", sort=None, title="Discount depth of the line"),
                    y=alt.Y("units_per_line:Q", title="Units per order line"),
                    tooltip=[alt.Tooltip("discount_band"), alt.Tooltip("units_per_line:Q", format=".2f")],
                )
                .properties(height=240, title="Basket depth by discount"),
                key="bands_depth",
            )
        c.table(shown, "discount-bands", key="bands")
        st.caption("Descriptive: what sold at each depth, not what a discount caused.")
else:
    st.info("Not built yet: needs `mart_discount_bands_daily`.", icon=":material/construction:")

st.subheader("Price changes")
if snap.has("mart_sku_price_periods"):
    pf = f.only("categories")
    reasons = queries.price_reasons(snap, pf)
    periods = queries.price_periods(snap, pf)
    left, right = st.columns(2)
    with left:
        if not reasons.empty:
            reasons["units_per_day"] = reasons.units / reasons.days_at_price.astype("float64").where(
                reasons.days_at_price > 0
            )
            c.chart(
                alt.Chart(reasons)
                .mark_bar()
                .encode(
                    y=alt.Y("price_reason:N", sort="-x", title=None),
                    x=alt.X("units_per_day:Q", title="Units per SKU-day at that price"),
                    tooltip=[
                        alt.Tooltip("price_reason"),
                        alt.Tooltip("periods"),
                        alt.Tooltip("units"),
                        alt.Tooltip("units_per_day:Q", format=".3f"),
                    ],
                )
                .properties(height=200, title="Sales pace by why the price was set"),
                key="price_reasons",
            )
    with right:
        if periods.empty:
            c.empty("No SKU changed price in the chosen period.")
        else:
            plot = c.amounts(periods, code)
            plot["units_per_day"] = plot.units_per_day.astype("float64")
            c.chart(
                alt.Chart(plot)
                .mark_circle(size=60, opacity=0.7)
                .encode(
                    x=alt.X("price_amount:Q", scale=alt.Scale(type="log"), title=f"Price ({code})"),
                    y=alt.Y("units_per_day:Q", title="Units per day at the price"),
                    color=alt.Color("price_reason:N", legend=alt.Legend(orient="bottom", title=None)),
                    detail=alt.Detail("sku_id:N"),
                    tooltip=[
                        alt.Tooltip("sku_code"),
                        alt.Tooltip("product_name"),
                        alt.Tooltip("period_no"),
                        alt.Tooltip("price_reason"),
                        alt.Tooltip("price_amount"),
                        alt.Tooltip("units_per_day"),
                    ],
                )
                .properties(height=240, title="SKUs that changed price: pace at each price"),
                key="price_scatter",
            )
    if not periods.empty:
        c.table(c.amounts(periods, code), "price-periods", key="periods", height=300)
    st.caption(
        "Periods differ in season, stock and traffic as well as price: a comparison, not an elasticity."
    )
else:
    st.info("Not built yet: needs `mart_sku_price_periods`.", icon=":material/construction:")

st.subheader("Traffic: sessions to sales")
if snap.has("mart_traffic_demand_daily"):
    traffic = queries.traffic_demand(snap, f.only("sources"))
    if traffic.empty:
        c.empty("No sessions in the chosen period.")
    else:
        traffic["conversion"] = traffic.purchasing_sessions / traffic.sessions.where(traffic.sessions > 0)
        shown = c.amounts(traffic, code)
        by_source = shown.groupby("traffic_source", as_index=False)[
            ["sessions", "purchasing_sessions", "sales_amount"]
        ].sum()
        by_source["conversion"] = by_source.purchasing_sessions / by_source.sessions.where(
            by_source.sessions > 0
        )
        c.chart(
            alt.Chart(by_source)
            .mark_circle()
            .encode(
                x=alt.X("sessions:Q", title="Sessions"),
                y=alt.Y("conversion:Q", axis=alt.Axis(format=".1%"), title="Conversion"),
                size=alt.Size("sales_amount:Q", title=f"Sales ({code})"),
                color=alt.Color("traffic_source:N"),
                tooltip=[
                    alt.Tooltip("traffic_source"),
                    alt.Tooltip("sessions"),
                    alt.Tooltip("conversion:Q", format=".2%"),
                    alt.Tooltip("sales_amount:Q", format=",.2f"),
                ],
            )
            .properties(height=260, title="Traffic sources: volume, conversion and sales"),
            key="traffic",
        )
        c.table(shown, "traffic-demand", key="traffic")
else:
    st.info("Not built yet: needs `mart_traffic_demand_daily`.", icon=":material/construction:")
c.explain("market_demand", "price_effects", "conversion")
