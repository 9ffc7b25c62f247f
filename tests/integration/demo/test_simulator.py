"""The demo simulator on a short period (10 days, pinned end date): realism, consistency, determinism.

One build is shared by the module; the determinism test builds the same period a
second time and compares a sorted export of every table.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from transactional.demo.build import GROUND_TRUTH, BuildOptions, BuildSummary, build_demo
from transactional.domain.errors import Conflict
from transactional.domain.orders import transition
from transactional.storage.database import STORE_FILE

END = date(2026, 11, 14)  # 11.11 falls inside the period
DAYS = 10
# Secrets are random by design (API keys, order access tokens, HMAC and webhook keys); nothing else may differ.
SECRET_COLUMNS = {
    "api_keys": ("secret_sha256", "display_prefix"),
    "orders": ("access_token_sha256",),
    "server_secrets": ("value",),
}
# Failures a shopper or operator meets in a real shop; anything else is a simulator or core bug.
EXPECTED_FAILURES = {"out_of_stock", "payment_not_refundable", "over_weight_limit"}


def _options(path: Path) -> BuildOptions:
    return BuildOptions(path, end_date=END, seed=7, days=DAYS)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildSummary]:
    path = tmp_path_factory.mktemp("demo")
    return path, build_demo(_options(path))


@pytest.fixture(scope="module")
def db(built: tuple[Path, BuildSummary]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(built[0] / STORE_FILE), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def truth(built: tuple[Path, BuildSummary]) -> dict[str, Any]:
    return json.loads((built[0] / GROUND_TRUTH).read_text())  # type: ignore[no-any-return]


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_the_store_has_a_shop_s_worth_of_activity(
    built: tuple[Path, BuildSummary], truth: dict[str, Any]
) -> None:
    summary = built[1]
    totals = truth["totals"]
    assert summary.days == DAYS
    assert totals["orders_paid"] > 500 and totals["sessions"] > 30_000 and summary.events > 80_000
    assert totals["refunds"] > 0 and totals["orders_expired"] > 0 and totals["orders_cancelled"] > 0
    assert set(summary.failures) <= EXPECTED_FAILURES, summary.failures
    # 11.11 is a peak: more sessions than the days around it.
    days = truth["days"]
    assert days["2026-11-11"]["sessions"] > 1.5 * days["2026-11-10"]["sessions"]


def test_conversion_and_cart_abandonment_are_within_their_bands(truth: dict[str, Any]) -> None:
    funnel = {
        step: sum(day[step] for day in truth["funnel"].values())
        for step in ("session", "add_to_cart", "purchase")
    }
    conversion = funnel["purchase"] / funnel["session"]
    abandonment = 1 - funnel["purchase"] / funnel["add_to_cart"]
    assert 0.02 <= conversion <= 0.05, conversion
    assert 0.60 <= abandonment <= 0.80, abandonment


def test_ground_truth_matches_the_store(db: duckdb.DuckDBPyConnection, truth: dict[str, Any]) -> None:
    totals = truth["totals"]
    assert scalar(db, "select count(*) from orders where paid_at is not null") == totals["orders_paid"]
    assert scalar(db, "select count(*) from orders") == totals["orders_placed"]
    assert (
        scalar(db, "select coalesce(sum(total_minor), 0) from orders where paid_at is not null")
        == totals["total_minor"]
    )
    assert scalar(db, "select count(*) from storefront_events where source = 'client'") == truth["events"]
    purchases = scalar(db, "select count(*) from storefront_events where event_name = 'purchase'")
    assert purchases == totals["orders_paid"]  # funnel purchases = paid orders (BEY-7)


def test_ground_truth_revenue_equals_the_ledger(db: duckdb.DuckDBPyConnection, truth: dict[str, Any]) -> None:
    """What the paid orders are worth = what the ledger captured for them plus what it still holds
    (card holds not yet captured), less the refunds of those orders."""
    totals = truth["totals"]
    booked = scalar(
        db,
        """
        select sum(case when l.account in ('sales_revenue', 'tax_payable', 'shipping_revenue', 'refunds')
                        then l.credit_minor - l.debit_minor else 0 end)
             + sum(case when l.account = 'customer_receivable' then l.debit_minor - l.credit_minor else 0 end)
        from ledger_lines as l
        join ledger_postings as p using (posting_id)
        join orders as o on o.order_id = p.order_id
        where o.paid_at is not null
        """,
    )
    assert booked == totals["total_minor"] - totals["refunded_minor"]


def test_stock_never_goes_negative_and_levels_equal_the_journal(db: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            db, "select count(*) from stock_levels where on_hand < 0 or reserved < 0 or reserved > on_hand"
        )
        == 0
    )
    mismatched = scalar(
        db,
        """
        select count(*) from stock_levels as l
        left join (select sku_id, warehouse_id, sum(on_hand_delta) as h, sum(reserved_delta) as r
                   from stock_movements group by all) as m using (sku_id, warehouse_id)
        where coalesce(m.h, 0) <> l.on_hand or coalesce(m.r, 0) <> l.reserved
        """,
    )
    assert mismatched == 0
    # Stockouts happen now and then, and replenishment answers them.
    assert scalar(db, "select count(*) from purchase_orders") > 9


def test_every_order_history_follows_the_state_machine(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        "select order_id, from_status, to_status from order_status_history order by order_id, changed_at, history_id"
    ).fetchall()
    current: dict[str, str | None] = {}
    for order_id, src, dst in rows:
        assert current.get(order_id) == src, (order_id, src, dst)
        if src is not None:
            transition(src, dst)
        current[order_id] = dst
    final = dict(db.execute("select order_id, status from orders").fetchall())
    assert current == final


def test_the_same_seed_builds_the_same_store(built: tuple[Path, BuildSummary], tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_demo(_options(again))
    assert _export(built[0]) == _export(again)


def _export(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(path / STORE_FILE), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        ]
        out = {}
        for table in sorted(tables):
            skip = SECRET_COLUMNS.get(table, ())
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if r[0] not in skip and not (table == "schema_migrations" and r[0] == "applied_at")
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            out[table] = con.execute(f"select {select} from {table} order by all").fetchall()
        return out
    finally:
        con.close()


def test_a_build_into_a_dir_that_holds_a_store_is_refused_and_changes_nothing(
    built: tuple[Path, BuildSummary], tmp_path: Path
) -> None:
    # A copy: the module's read-only connection to the shared store must stay open.
    path = tmp_path / "copy"
    shutil.copytree(built[0], path)
    before = _export(path)
    with pytest.raises(Conflict) as refused:
        build_demo(_options(path))
    assert refused.value.code == "store_exists"
    assert _export(path) == before
