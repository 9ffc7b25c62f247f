"""Reads for payments, the ledger and store credit (committed data).

Ledger balances are debit − credit per account (credit-normal accounts read
negative; all accounts together sum to 0), per provider for the per-provider
accounts, per store-local day of the posting (the store's IANA timezone).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from transactional.storage.reads import fetch_dicts, fetch_one


def payments_of_order(cur: duckdb.DuckDBPyConnection, order_id: str) -> list[dict[str, Any]]:
    """Every payment attempt of an order (oldest first) with its provider operations and refunds."""
    payments = fetch_dicts(
        cur,
        "select * exclude (commit_seq, token) from payments where order_id = ? order by created_at, payment_id",
        [order_id],
    )
    operations = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from payment_operations where order_id = ? "
        "order by requested_at, operation_id",
        [order_id],
    )
    refunds = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from refunds where order_id = ? order by created_at, refund_id",
        [order_id],
    )
    for p in payments:
        p["operations"] = [o for o in operations if o["payment_id"] == p["payment_id"]]
        p["refunds"] = [r for r in refunds if r["payment_id"] == p["payment_id"]]
    return payments


def ledger_balances(
    cur: duckdb.DuckDBPyConnection,
    timezone: str,
    *,
    day_from: date | None = None,
    day_to: date | None = None,
) -> list[dict[str, Any]]:
    """Debits, credits and balance per store-local day, account and provider."""
    where, params = _day_filter(timezone, day_from, day_to)
    return fetch_dicts(
        cur,
        "select cast(timezone(?, p.posted_at) as date) as day, l.account, l.provider, "
        "sum(l.debit_minor)::bigint as debit_minor, sum(l.credit_minor)::bigint as credit_minor, "
        "(sum(l.debit_minor) - sum(l.credit_minor))::bigint as balance_minor "
        "from ledger_lines as l join ledger_postings as p using (posting_id) "
        f"{where} group by all order by day, l.account, l.provider nulls first",
        [timezone, *params],
    )


def account_balances(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Debit − credit per account over the whole ledger."""
    rows = cur.execute(
        "select account, (sum(debit_minor) - sum(credit_minor))::bigint from ledger_lines group by account"
    ).fetchall()
    return {account: int(balance) for account, balance in rows}


def _day_filter(timezone: str, day_from: date | None, day_to: date | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if day_from is not None:
        clauses.append("cast(timezone(?, p.posted_at) as date) >= ?")
        params += [timezone, day_from]
    if day_to is not None:
        clauses.append("cast(timezone(?, p.posted_at) as date) <= ?")
        params += [timezone, day_to]
    if not clauses:
        return "", []
    return "where " + " and ".join(clauses), params


def store_credit(cur: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, Any]:
    """A customer's store-credit balance with its movements (newest last)."""
    account = fetch_one(
        cur,
        "select balance_minor, updated_at from store_credit_accounts where customer_id = ?",
        [customer_id],
    )
    movements = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from store_credit_movements where customer_id = ? "
        "order by occurred_at, movement_id",
        [customer_id],
    )
    return {
        "customer_id": customer_id,
        "balance_minor": account["balance_minor"] if account is not None else 0,
        "movements": movements,
    }
