"""The finance marts agree with the store file to the cent, and revenue reconciles with the ledger.

Runs on the shared small demo store (``built`` in conftest.py: store, lake and
``dbt build`` with every model, data test, unit test and metric identity).
Each expected figure is computed with plain SQL on the store file itself, not
with the marts' SQL: provider fees, refunds, COGS, ledger balances per
account, and the per-order revenue identity of the simulator's own test.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.analytics.queries import TIMEZONE, from_store, from_warehouse


def test_provider_fees_match_the_store_by_day_and_method(built: Path) -> None:
    by_day_method = from_store(
        built,
        """
        select cast(p.posted_at at time zone ? as date), pay.method, sum(l.debit_minor - l.credit_minor)
        from ledger_lines as l
        join ledger_postings as p using (posting_id)
        join payments as pay on pay.payment_id = p.payment_id
        where l.account = 'provider_fees'
        group by all
        """,
        [TIMEZONE],
    )
    mart = from_warehouse(built, "select fee_date, payment_method, fee_minor from mart_payment_fees_daily")
    assert sorted(mart) == sorted(by_day_method)
    total = sum(row[2] for row in by_day_method)
    # Fees are charged on captures and never returned: the payments carry the same total.
    assert from_store(built, "select sum(fee_minor) from payments")[0][0] == total > 0
    assert from_warehouse(
        built,
        "select (select sum(provider_fees_minor) from mart_daily_finance), (select sum(fee_minor) from fct_payments)",
    )[0] == (total, total)


def test_refunds_match_the_store(built: Path) -> None:
    revenue, amount, refunds = from_store(
        built,
        "select sum(revenue_minor), sum(amount_minor), count(*) from refunds where status = 'succeeded'",
    )[0]
    assert refunds > 0
    ledger_refunds, returns = from_warehouse(
        built, "select sum(ledger_refunds_minor), sum(returns_minor) from mart_daily_finance"
    )[0]
    assert ledger_refunds == returns == revenue
    # Everything given back (goods, tax, shipping) is what the reconciliation saw refunded.
    assert (
        from_warehouse(built, "select sum(ledger_refunded_minor) from mart_revenue_reconciliation")[0][0]
        == amount
    )


def test_ledger_balances_per_account_match_the_store(built: Path) -> None:
    store = from_store(
        built,
        "select account, provider, sum(debit_minor) - sum(credit_minor) from ledger_lines group by all",
    )
    mart = from_warehouse(
        built,
        """
        select ledger_account, payment_provider, running_balance_minor
        from mart_ledger_balances_daily
        qualify row_number() over (
            partition by ledger_account, payment_provider order by balance_date desc
        ) = 1
        """,
    )
    assert sorted(mart, key=repr) == sorted(store, key=repr)
    assert sum(row[2] for row in store) == 0
    assert {row[0] for row in store} >= {"sales_revenue", "refunds", "provider_fees", "customer_receivable"}


def test_cogs_and_gross_margin_match_the_store(built: Path) -> None:
    cogs, net = from_store(
        built,
        """
        select
            (select sum(l.unit_cost_minor * l.quantity) from order_lines l join orders o using (order_id)
             where o.paid_at is not null and l.status <> 'removed'),
            (select sum(l.gross_minor - l.discount_minor) from order_lines l join orders o using (order_id)
             where o.paid_at is not null and l.status <> 'removed')
            - (select sum(revenue_minor) from refunds where status = 'succeeded')
        """,
    )[0]
    mart = from_warehouse(
        built, "select sum(cogs_minor), sum(net_minor), sum(gross_margin_minor) from mart_daily_finance"
    )
    assert mart[0] == (cogs, net, net - cogs)


def test_revenue_reconciles_with_the_ledger_with_no_difference(built: Path) -> None:
    statuses = dict(
        from_warehouse(built, "select status, count(*) from mart_revenue_reconciliation group by 1")
    )
    assert statuses.get("difference", 0) == 0 and statuses["matched"] > 0
    assert (
        from_warehouse(built, "select count(*) from fct_order_reconciliation where status <> 'matched'")[0][0]
        == 0
    )
    # The paid orders' worth after refunds, and what the ledger holds for them (the simulator's identity).
    worth, booked, paid = from_store(
        built,
        """
        select
            (select sum(total_minor) from orders where paid_at is not null)
            - (select coalesce(sum(r.amount_minor), 0) from refunds r join orders o using (order_id)
               where r.status = 'succeeded' and o.paid_at is not null),
            (select sum(case when l.account in ('sales_revenue', 'tax_payable', 'shipping_revenue', 'refunds')
                             then l.credit_minor - l.debit_minor else 0 end)
                  + sum(case when l.account = 'customer_receivable' then l.debit_minor - l.credit_minor else 0 end)
             from ledger_lines l join ledger_postings p using (posting_id) join orders o on o.order_id = p.order_id
             where o.paid_at is not null),
            (select count(*) from orders where paid_at is not null)
        """,
    )[0]
    assert worth == booked
    mart = from_warehouse(
        built,
        "select sum(sales_figure_minor), sum(ledger_figure_minor), sum(paid_orders), sum(difference_minor),"
        " sum(unpaid_ledger_net_minor) from mart_revenue_reconciliation",
    )[0]
    assert mart == (worth, worth, paid, 0, 0)
