"""Inventory (ANA-4): turnover, days of inventory, sell-through, ABC, stockouts, slow movers, and the alert list."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header(
    "Inventory", snap, "How stock turns and sells through, what runs out, what sits, and what to reorder."
)
filters.note(
    ("dates", "categories"),
    "stock belongs to a SKU and a warehouse, not to a session, channel or ship-to region",
)
st.caption(
    "The date range applies to the stockout chart; per-SKU figures (turnover, ABC, slow movers) cover the whole "
    "period of the published snapshot, as the inventory mart computes them."
)
cf = f.only("categories")

totals = queries.inventory_totals(snap, cf)
first_day = pd.Timestamp(totals["first_day"]).date() if not pd.isna(totals["first_day"]) else None
last_day = pd.Timestamp(totals["last_day"]).date() if not pd.isna(totals["last_day"]) else None
st.caption(f"Per-SKU figures cover {first_day} … {last_day} ({totals['period_days']} days), not annualised.")
scale = 10 ** c.exponent(code)
avg_value_minor = float(totals["avg_inventory_value_amount"]) * scale
cols = st.columns(5)
with cols[0]:
    c.kpi(
        "Turnover",
        c.ratio(totals["cogs_minor"], avg_value_minor),
        None,
        lambda v: "–" if v is None else f"{v:.2f}×",
    )
with cols[1]:
    units_per_day = c.ratio(totals["units_sold"], totals["period_days"] or 0)
    c.kpi(
        "Days of inventory",
        c.ratio(float(totals["avg_on_hand"]), units_per_day or 0),
        None,
        lambda v: "–" if v is None else f"{v:,.0f} days",
    )
with cols[2]:
    c.kpi(
        "Sell-through",
        c.ratio(totals["units_sold"], totals["units_sold"] + totals["ending_on_hand"]),
        None,
        c.pct,
    )
with cols[3]:
    c.kpi(
        "Stockout days", int(totals["stockout_days"]), None, lambda v: f"{v:,}", help="SKU × warehouse days"
    )
with cols[4]:
    c.kpi("Slow movers", int(totals["slow_movers"]), None, lambda v: f"{v:,} SKUs")

st.subheader("Alerts: forecast stockouts and overstock")
alerts = queries.inventory_alerts(snap, cf)
if alerts is None:
    st.warning(
        "Not built yet: the alert list needs the `mart_inventory_alerts` mart, which this publication does not "
        "hold. It appears here after the next publish that includes it.",
        icon=":material/construction:",
    )
elif alerts.empty:
    c.empty("No open alerts: every SKU × warehouse has enough cover and none is overstocked.")
else:
    kinds = alerts.kind.value_counts().to_dict()
    st.caption(
        f"{kinds.get('stockout_forecast', 0):,} forecast stockouts, {kinds.get('overstock', 0):,} overstocked "
        "SKU × warehouse pairs, most urgent first."
    )
    left, right = st.columns([1, 2])
    with left:
        counts = alerts.groupby(["kind", "severity"], as_index=False).size()
        c.chart(
            alt.Chart(counts)
            .mark_bar()
            .encode(
                y=alt.Y("kind:N", title=None),
                x=alt.X("size:Q", title="SKU × warehouse pairs"),
                color=alt.Color("severity:N", legend=alt.Legend(orient="bottom", title="Severity")),
                tooltip=[alt.Tooltip("kind"), alt.Tooltip("severity"), alt.Tooltip("size")],
            )
            .properties(height=160),
            key="alert_counts",
        )
    with right:
        c.table(alerts, "inventory-alerts", key="alerts", height=320)

skus = queries.inventory_skus(snap, cf)
left, right = st.columns(2)
with left:
    abc = queries.abc_summary(snap, cf)
    shown = c.amounts(abc, code)
    c.chart(
        alt.Chart(shown)
        .mark_bar()
        .encode(
            x=alt.X("abc_class:N", title="ABC class"),
            y=alt.Y("revenue_amount:Q", title=f"Revenue ({code})"),
            color=alt.Color("abc_class:N", legend=None),
            tooltip=[
                alt.Tooltip("abc_class"),
                alt.Tooltip("skus"),
                alt.Tooltip("units_sold"),
                alt.Tooltip("ending_on_hand"),
                alt.Tooltip("revenue_amount:Q", format=",.2f"),
            ],
        )
        .properties(height=260, title="Revenue by ABC class"),
        key="abc",
    )
    c.table(shown, "abc-classes", key="abc")
with right:
    stock = queries.stockouts_daily(snap, cf)
    if stock.empty:
        c.empty("No stock days in the chosen period.")
    else:
        c.chart(
            alt.Chart(stock)
            .mark_area(color="#e45756", opacity=0.6)
            .encode(
                x=alt.X("day:T", title="Store-local day", axis=alt.Axis(format="%b %d")),
                y=alt.Y("stockout_sku_warehouses:Q", title="SKU × warehouses out of stock"),
                tooltip=[
                    alt.Tooltip("day:T"),
                    alt.Tooltip("stockout_sku_warehouses:Q"),
                    alt.Tooltip("sku_warehouses:Q"),
                ],
            )
            .properties(height=260, title="Stockouts at the end of each day"),
            key="stockouts",
        )
        c.drilldown(
            snap,
            "stockout days in the range",
            "stockout_days",
            "stockout_days",
            int(stock.stockout_sku_warehouses.sum()),
            cf,
            key="inv_stockouts",
            money_check=False,
        )

st.subheader("Days of inventory against sell-through")
plot = skus[skus.abc_class.notna()].copy()
for col in ("days_of_inventory", "sell_through", "turnover", "revenue_amount"):
    plot[col] = plot[col].astype("float64")
c.chart(
    alt.Chart(plot)
    .mark_circle(opacity=0.6)
    .encode(
        x=alt.X("sell_through:Q", axis=alt.Axis(format=".0%"), title="Sell-through"),
        y=alt.Y("days_of_inventory:Q", scale=alt.Scale(type="symlog"), title="Days of inventory"),
        color=alt.Color("abc_class:N", title="ABC"),
        size=alt.Size("revenue_amount:Q", legend=None),
        tooltip=[
            alt.Tooltip("sku_code"),
            alt.Tooltip("abc_class"),
            alt.Tooltip("units_sold"),
            alt.Tooltip("ending_on_hand"),
            alt.Tooltip("turnover"),
            alt.Tooltip("days_of_inventory"),
            alt.Tooltip("sell_through"),
        ],
    )
    .properties(height=320),
    key="doi_scatter",
)

left, right = st.columns(2)
view = skus[
    [
        "sku_code",
        "sku_id",
        "product_id",
        "abc_class",
        "units_sold",
        "units_ordered",
        "ending_on_hand",
        "turnover",
        "days_of_inventory",
        "sell_through",
        "stockout_days",
        "last_sold_date",
        "revenue_minor",
    ]
]
with left:
    st.subheader("Slow movers")
    slow = skus[skus.is_slow_mover][view.columns].sort_values(["ending_on_hand"], ascending=False)
    c.table(c.amounts(slow, code), "slow-movers", key="slow", height=300)
with right:
    st.subheader("Most stockout days")
    outs = skus[skus.stockout_days > 0][view.columns].sort_values("stockout_days", ascending=False)
    c.table(c.amounts(outs, code), "stockout-skus", key="stockout_skus", height=300)

every = st.expander("Every SKU", key="inv_all_skus", on_change="rerun")
if every.open:  # lazy: a long table is drawn only when asked for
    with every:
        c.table(c.amounts(view, code), "inventory-skus", key="all_skus", height=400)
c.explain(
    "turnover",
    "days_of_inventory",
    "sell_through",
    "units_sold_stock",
    "abc",
    "stockout",
    "slow_mover",
    "alerts",
)
