"""Plain explanations of every metric the dashboards show, written from DECISIONLOG.md §5 and §9–§13.

A page shows the ones it uses (``components.explain``), so a reader never
has to guess what a number counts or how it is dated.
"""

from __future__ import annotations

METRICS: dict[str, tuple[str, str]] = {
    # sales (§5, §10)
    "gross": (
        "Gross sales",
        "Catalogue price × quantity of the lines of paid orders, before discounts, without tax or shipping. "
        "Dated by the store-local day the order became paid (not the day it was placed).",
    ),
    "discounts": (
        "Discounts",
        "Order-level discounts (coupons, manual discounts) spread over the order's lines, without tax.",
    ),
    "returns": (
        "Returns",
        "Money given back for goods by refunds, without tax, dated by the day the refund succeeded; a refund "
        "of an amount only (goodwill) counts too. A day with only returns can have negative net revenue.",
    ),
    "net_revenue": (
        "Net revenue (net sales)",
        "Gross − discounts − returns. Sales count on their paid day, returns on their refund day.",
    ),
    "orders": (
        "Orders",
        "Orders that became paid in the period. Orders that expired or were cancelled before paying are "
        "not sales. With a category filter, an order counts when at least one of its lines is in the category.",
    ),
    "units": ("Units", "Units on the lines of the orders paid in the period."),
    "aov": (
        "Average order value (AOV)",
        "(Gross − discounts) ÷ paid orders of the period: what a paid order brings before returns.",
    ),
    "cogs": (
        "Cost of goods sold (COGS)",
        "The SKU's unit cost copied onto each line at checkout × units sold, on the paid day.",
    ),
    "gross_margin": ("Gross margin", "Net sales − COGS; margin % = gross margin ÷ net sales."),
    "product_sales": (
        "Product ranking",
        "Sales after discounts of the lines sold in the period; 'net' also takes off those lines' returns, "
        "whenever they were made.",
    ),
    # behaviour (§12)
    "sessions": (
        "Sessions",
        "One storefront visit (a session id of the clickstream, duplicate events counted once), dated by the "
        "store-local day of its first event; its traffic source and device are those of its first event.",
    ),
    "funnel": (
        "Funnel steps",
        "A session reached a step (view item → add to cart → begin checkout → payment info) when it sent at "
        "least one such event. A purchase is a paid order whose server-side purchase event carries the "
        "session's id, dated by the session's start, so funnel purchases equal paid orders.",
    ),
    "conversion": ("Conversion rate", "Sessions with a purchase ÷ sessions."),
    "cart_abandonment": (
        "Cart abandonment",
        "(Sessions that added to cart − sessions that purchased) ÷ sessions that added to cart.",
    ),
    "cohort": (
        "Cohorts and retention",
        "A cohort is the customers whose first paid order fell in that store-local month (guests belong to "
        "none). Customer retention = cohort customers with a paid order in a later month ÷ cohort customers. "
        "Revenue retention = the cohort's net revenue that month ÷ its net revenue in month 0 (net = lines' "
        "net − amount-only refunds, in the order's paid month).",
    ),
    "repeat_purchase": (
        "Repeat purchase",
        "Repeat purchase rate = cohort customers with two or more paid orders ÷ cohort customers; days "
        "between orders = store-local days from one paid order to the same customer's next (median).",
    ),
    # inventory (§4, §13)
    "units_sold_stock": (
        "Units sold (stock)",
        "Units shipped out of the stock movement journal; units ordered (paid lines) are shown beside them.",
    ),
    "turnover": (
        "Turnover",
        "COGS of units sold ÷ average inventory value, both at the SKU's current unit cost, over the period "
        "(not annualised). Overall turnover = Σ COGS ÷ Σ average inventory value.",
    ),
    "days_of_inventory": (
        "Days of inventory",
        "Average units on hand ÷ average units sold per day: how long the stock lasts at the period's pace.",
    ),
    "sell_through": ("Sell-through", "Units sold ÷ (units sold + units on hand at the end of the period)."),
    "abc": (
        "ABC class",
        "SKUs with sales ranked by revenue: A while the revenue ranked before the SKU is below 80 % of the "
        "total (A holds at least 80 %), B below 95 %, C the rest. SKUs without sales have no class.",
    ),
    "stockout": (
        "Stockout days",
        "A day on which a SKU × warehouse ended with nothing available (on hand − reserved ≤ 0); a SKU's "
        "stockout days are summed over its warehouses.",
    ),
    "slow_mover": (
        "Slow mover",
        "A stocked SKU with no unit shipped in the last 30 days of the period, or with sell-through below 10 %.",
    ),
    "alerts": (
        "Inventory alerts",
        "Per SKU × warehouse: a forecast stockout date from available + incoming stock at the recent daily "
        "demand, tiered by ABC class, with a suggested reorder quantity; or overstock when cover is far "
        "above need. Low stock itself is available strictly below the reorder point.",
    ),
    # finance (§11)
    "ledger_revenue": (
        "Ledger revenue",
        "Sales and shipping revenue recognized in the ledger when the money is captured, by the posting's "
        "store-local day (credits − debits). Ledger refunds are the goods refunded (without tax).",
    ),
    "provider_fees": (
        "Payment fees",
        "Provider fees booked with each capture, by the payment's method; never returned on refunds.",
    ),
    "ledger_balance": (
        "Ledger balances",
        "Debit − credit per account (and provider), running to the end of the chosen range. Credit-normal "
        "accounts (revenue, liabilities) read negative, and all accounts together sum to 0 every day.",
    ),
    "reconciliation": (
        "Reconciliation",
        "Per order, like with like: the sales figure (lines' gross − discounts + tax, shipping, less what "
        "was refunded) against the ledger's (revenue, tax and shipping recognized, less refunds, plus a card "
        "hold still open). Orders roll up to their paid day; a day shows 'difference' if any of its orders "
        "differs, so differences cannot offset each other.",
    ),
    # logistics (§12)
    "dispatch_on_time": (
        "Dispatch on time",
        "Parcels shipped by the promised dispatch time ÷ parcels shipped, by the store-local day shipped.",
    ),
    "delivery_on_time": (
        "Delivered on time",
        "Parcels whose store-local delivery day is on or before the promised date ÷ parcels delivered so far.",
    ),
    "transit": ("Transit days", "Store-local days from shipped to delivered (median of delivered parcels)."),
    "exceptions": (
        "Exceptions",
        "Parcels with at least one exception scan from the carrier, even if they recovered afterwards.",
    ),
    # market (ANA-3)
    "market_demand": (
        "Demand by segment",
        "Paid orders, units and sales after discounts of the period's lines, by the order's category, "
        "ship-to region, traffic source (the order's session) and sales channel.",
    ),
    "price_effects": (
        "Price and discount effects",
        "How units sold move with the price paid and with discounts, from the market marts.",
    ),
}


def explanation(key: str) -> tuple[str, str]:
    return METRICS[key]
