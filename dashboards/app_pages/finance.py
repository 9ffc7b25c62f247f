"""Finance (ANA-5): the gross → net → margin bridge, ledger revenue, fees by payment method, balances, reconciliation."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import components as c
from dashboards import filters, queries

snap, f = c.context()
code = c.currency(snap)
c.header(
    "Finance", snap, "From gross sales to gross margin, what the ledger booked, and whether the two agree."
)
filters.note(
    ("dates",),
    "the ledger, fees, balances and reconciliation carry no category, channel, traffic source or region, "
    "so the whole page stays comparable with them",
)
ff = f.only()

prev_start, prev_end = f.previous()
now = queries.finance_totals(snap, f.start, f.end)
before = queries.finance_totals(snap, prev_start, prev_end)


def money(v: float | None) -> str:
    return c.money(v, code)


# Three tiles a row: exact amounts to the cent need the width.
cols = st.columns(3)
with cols[0]:
    c.kpi("Net sales", now["net_minor"], before["net_minor"], money)
with cols[1]:
    c.kpi("Gross margin", now["gross_margin_minor"], before["gross_margin_minor"], money)
with cols[2]:
    c.kpi(
        "Margin %",
        c.ratio(now["gross_margin_minor"], now["net_minor"]),
        c.ratio(before["gross_margin_minor"], before["net_minor"]),
        c.pct,
        points=True,
    )
cols = st.columns(3)
with cols[0]:
    c.kpi("Ledger revenue", now["ledger_revenue_minor"], before["ledger_revenue_minor"], money)
with cols[1]:
    c.kpi("Ledger refunds", now["ledger_refunds_minor"], before["ledger_refunds_minor"], money, inverse=True)
with cols[2]:
    c.kpi("Payment fees", now["provider_fees_minor"], before["provider_fees_minor"], money, inverse=True)

st.subheader("Gross → net → margin")
steps = [
    ("Gross sales", now["gross_minor"], "total"),
    ("− Discounts", -now["discount_minor"], "step"),
    ("− Returns", -now["returns_minor"], "step"),
    ("Net sales", now["net_minor"], "total"),
    ("− COGS", -now["cogs_minor"], "step"),
    ("Gross margin", now["gross_margin_minor"], "total"),
]
rows, running = [], 0
for order, (label, value, kind) in enumerate(steps):
    start = 0 if kind == "total" else running
    end = value if kind == "total" else running + value
    running = end
    rows.append({"order": order, "step": label, "start": start, "end": end, "value": value, "kind": kind})
bridge = pd.DataFrame(rows)
scale = 10 ** c.exponent(code)
for col in ("start", "end", "value"):
    bridge[col] = bridge[col] / scale
c.chart(
    alt.Chart(bridge)
    .mark_bar(size=46)
    .encode(
        x=alt.X("step:N", sort=[s[0] for s in steps], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("start:Q", axis=alt.Axis(**c.money_axis(code))),
        y2=alt.Y2("end:Q"),
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=["total", "step"], range=["#4c78a8", "#e45756"]), legend=None
        ),
        tooltip=[alt.Tooltip("step"), alt.Tooltip("value:Q", format=",.2f", title=code)],
    )
    .properties(height=300),
    key="bridge",
)
st.caption(
    f"Tax collected {money(now['tax_minor'])} and shipping charged {money(now['shipping_minor'])} are not "
    "revenue in this bridge."
)
c.drilldown(snap, "gross sales", "sale_lines", "gross_minor", now["gross_minor"], ff, key="fin_gross")
c.drilldown(snap, "returns", "returns", "returns_minor", now["returns_minor"], ff, key="fin_returns")
c.drilldown(snap, "net sales", "net_revenue", "net_minor", now["net_minor"], ff, key="fin_net")
c.drilldown(snap, "COGS", "sale_lines", "cogs_minor", now["cogs_minor"], ff, key="fin_cogs")
c.drilldown(
    snap, "gross margin", "net_revenue", "margin_minor", now["gross_margin_minor"], ff, key="fin_margin"
)
c.drilldown(
    snap,
    "ledger revenue",
    "ledger_revenue",
    "revenue_minor",
    now["ledger_revenue_minor"],
    ff,
    key="fin_ledger",
)
c.drilldown(
    snap,
    "ledger refunds",
    "ledger_refunds",
    "refunds_minor",
    now["ledger_refunds_minor"],
    ff,
    key="fin_refunds",
)

left, right = st.columns(2)
with left:
    st.subheader("Fees by payment method")
    fees = queries.fees_by_method(snap, ff)
    if fees.empty:
        c.empty("No payment fees in the chosen period.")
    else:
        fees["fee_rate"] = fees.fee_minor / fees.captured_minor.where(fees.captured_minor > 0)
        shown = c.amounts(fees, code)
        c.chart(
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y("payment_method:N", sort="-x", title=None),
                x=alt.X("fee_amount:Q", title=f"Fees ({code})"),
                tooltip=[
                    alt.Tooltip("payment_method"),
                    alt.Tooltip("fee_postings"),
                    alt.Tooltip("fee_amount:Q", format=",.2f"),
                    alt.Tooltip("fee_rate:Q", format=".2%", title="of captured"),
                ],
            )
            .properties(height=200),
            key="fees",
        )
        c.table(shown, "fees-by-method", key="fees")
        c.drilldown(
            snap, "payment fees", "provider_fees", "fee_minor", now["provider_fees_minor"], ff, key="fin_fees"
        )
with right:
    st.subheader(f"Ledger balances at {f.end:%Y-%m-%d}")
    balances = queries.ledger_balances(snap, ff)
    if balances.empty:
        c.empty("No ledger postings up to the end of the range.")
    else:
        shown = c.amounts(balances, code)
        c.table(shown, "ledger-balances", key="balances")
        st.caption(
            "Running balance (debit − credit) per account and provider; credit-normal accounts read negative. "
            f"Σ over all accounts = {money(int(balances.running_balance_minor.sum()))}."
        )
    moves = queries.ledger_movements(snap, ff)
    if not moves.empty:
        st.caption("Movements within the range")
        c.table(c.amounts(moves, code), "ledger-movements", key="moves")

st.subheader("Reconciliation: sales against the ledger")
recon = queries.reconciliation(snap, ff)
if recon.empty:
    c.empty("No orders to reconcile in the chosen period.")
else:
    bad = recon[recon.status != "matched"]
    if bad.empty:
        st.success(
            f"All {len(recon)} days matched: {int(recon.orders.sum()):,} orders, difference "
            f"{money(int(recon.difference_minor.sum()))}.",
            icon=":material/verified:",
        )
    else:
        st.error(f"{len(bad)} day(s) with a difference.", icon=":material/error:")
    c.table(c.amounts(recon, code), "reconciliation", key="recon")
    c.drilldown(
        snap,
        "reconciled orders",
        "reconciliation_orders",
        "orders",
        int(recon.orders.sum()),
        ff,
        key="fin_recon",
        money_check=False,
    )
    c.drilldown(
        snap,
        "orders with a difference",
        "reconciliation_orders",
        "difference_minor",
        int(recon.difference_minor.sum()),
        ff,
        key="fin_recon_diff",
        where="difference_minor",
    )
c.explain(
    "gross",
    "discounts",
    "returns",
    "net_revenue",
    "cogs",
    "gross_margin",
    "ledger_revenue",
    "provider_fees",
    "ledger_balance",
    "reconciliation",
)
