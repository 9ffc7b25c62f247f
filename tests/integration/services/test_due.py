"""run_due: unpaid orders expire when their payment window has elapsed, and give their stock back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.conftest import ADMIN
from tests.integration.services.order_fixtures import (
    NY_ADDRESS,
    STOREFRONT,
    Catalogue,
    levels,
    pay,
    run,
    seed,
)
from transactional.domain.access import SYSTEM
from transactional.domain.clock import ManualClock
from transactional.services import orders as svc
from transactional.services.due import run_due
from transactional.storage.reads import orders as reads
from transactional.storage.writer import Writer


@pytest.fixture
def cat(writer: Writer) -> Catalogue:
    return run(writer, seed, ADMIN)


def place(writer: Writer, cat: Catalogue, qty: int) -> str:
    cmd = svc.PlaceOrder.model_validate(
        {
            "guest_email": "guest@example.com",
            "shipping_address": NY_ADDRESS,
            "sales_channel": "web",
            "lines": [{"sku_id": cat.sku["A"], "quantity": qty}],
        }
    )
    return run(writer, lambda uow: svc.place_order(uow, cmd), STOREFRONT)["order_id"]


def status(writer: Writer, order_id: str) -> str:
    row = writer.con.execute("select status from orders where order_id = ?", [order_id]).fetchone()
    assert row is not None
    return str(row[0])


def test_unpaid_orders_expire_after_their_window(writer: Writer, cat: Catalogue, clock: ManualClock) -> None:
    start = levels(writer)
    unpaid = place(writer, cat, 3)
    paid = place(writer, cat, 2)
    pay(writer, paid)

    clock.advance(timedelta(seconds=1799))
    assert run(writer, run_due, SYSTEM)["orders_expired"] == 0
    assert status(writer, unpaid) == "pending_payment"

    clock.advance(timedelta(seconds=1))  # expires_at <= now
    result = run(writer, run_due, SYSTEM)
    assert result["orders_expired"] == 1 and result["expired_order_ids"] == [unpaid]
    assert result["more_due"] is False
    assert status(writer, unpaid) == "expired" and status(writer, paid) == "picking"

    # Only the paid order still holds stock.
    after = levels(writer)
    a_east = (cat.sku["A"], cat.warehouse["east"])
    assert after[a_east] == (start[a_east][0], 2)
    history = reads.status_history(writer.con.cursor(), unpaid)
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending_payment"),
        ("pending_payment", "expired"),
    ]
    assert (history[1]["actor_role"], history[1]["actor_key_id"], history[1]["reason"]) == (
        "system",
        None,
        "payment window elapsed",
    )
    releases = writer.con.execute(
        "select reserved_delta, reason from stock_movements where reference_id = ? and kind = 'release'",
        [unpaid],
    ).fetchall()
    assert releases == [(-3, "order expired")]
    # Nothing left to do: a second call changes nothing.
    assert run(writer, run_due, SYSTEM)["orders_expired"] == 0


def test_run_due_caps_the_work_per_call(writer: Writer, cat: Catalogue, clock: ManualClock) -> None:
    ids = [place(writer, cat, 1) for _ in range(3)]
    clock.advance(timedelta(hours=1))
    first = run(writer, lambda uow: run_due(uow, limit=2), SYSTEM)
    assert first["orders_expired"] == 2 and first["more_due"] is True
    second = run(writer, lambda uow: run_due(uow, limit=2), SYSTEM)
    assert second["orders_expired"] == 1 and second["more_due"] is False
    assert sorted(first["expired_order_ids"] + second["expired_order_ids"]) == sorted(ids)
    assert all(status(writer, o) == "expired" for o in ids)
    assert all(reserved == 0 for _, reserved in levels(writer).values())
