"""The writer's in-memory state on a real store file: what a batch's commands see of each other,
what one batch writes, and which rows stay in memory (DESIGN.md, "The write path")."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.conftest import ADMIN
from tests.integration.services.order_fixtures import NY_ADDRESS, STOREFRONT, Catalogue, pay, run, seed, ship
from transactional.domain.errors import Conflict
from transactional.services import inventory, shipping
from transactional.services import orders as svc
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, Outcome, Writer

# -- helpers shared with test_writer.py ------------------------------------------


def warehouse(code: str, name: str | None = None) -> Callable[[UnitOfWork], Any]:
    return lambda uow: inventory.create_warehouse(
        uow, inventory.CreateWarehouse(code=code, name=name or f"Warehouse {code}", region="NY")
    )


@contextmanager
def running(writer: Writer) -> Iterator[Writer]:
    writer.start()
    try:
        yield writer
    finally:
        writer.stop()


@contextmanager
def one_batch(writer: Writer) -> Iterator[None]:
    """Commands submitted inside the block run as one batch when it ends.

    A command that stages nothing holds the (started) writer busy, so the
    others queue up behind it and are taken together.
    """
    entered, gate = threading.Event(), threading.Event()

    def hold(uow: UnitOfWork) -> None:
        entered.set()
        gate.wait(10)

    held = writer.submit(Command(fn=hold, actor=ADMIN))
    assert entered.wait(10)
    try:
        yield
    finally:
        gate.set()
        held.result(10)


def submit(writer: Writer, fn: Callable[[UnitOfWork], Any], actor: Any = ADMIN) -> Future[Outcome]:
    return writer.submit(Command(fn=fn, actor=actor))


def db_rows(writer: Writer, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Read through a connection of its own, as a reader of the store would."""
    cur = writer.con.cursor()
    try:
        return cur.execute(sql, params or []).fetchall()
    finally:
        cur.close()


def last_commit(writer: Writer) -> tuple[int, int]:
    row = db_rows(writer, "select commit_seq, commands from commits order by commit_seq desc limit 1")[0]
    return int(row[0]), int(row[1])


class WriteSpy:
    """Records every bulk statement the writer issues: (table, op, number of rows)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str, int]] = []
        real = Writer._write

        def spy(writer: Writer, table: str, op: str, rows: list[dict[str, Any]]) -> None:
            if rows:
                self.calls.append((table, op, len(rows)))
            real(writer, table, op, rows)

        monkeypatch.setattr(Writer, "_write", spy)

    def of(self, table: str) -> list[tuple[str, int]]:
        return [(op, n) for t, op, n in self.calls if t == table]


def place_cmd(cat: Catalogue, lines: list[tuple[str, int]]) -> Callable[[UnitOfWork], Any]:
    cmd = svc.PlaceOrder.model_validate(
        {
            "guest_email": "guest@example.com",
            "shipping_address": NY_ADDRESS,
            "sales_channel": "web",
            "lines": [{"sku_id": cat.sku[code], "quantity": qty} for code, qty in lines],
        }
    )
    return lambda uow: svc.place_order(uow, cmd)


def hot_children(writer: Writer, order_id: str) -> dict[str, int]:
    return {
        table: sum(1 for r in writer.state.tables[table].rows.values() if r["order_id"] == order_id)
        for table in ("order_lines", "order_allocations", "order_discounts")
    }


@pytest.fixture
def cat(writer: Writer) -> Catalogue:
    return run(writer, seed, ADMIN)


# -- visibility -------------------------------------------------------------------


def test_a_commands_rows_are_invisible_to_readers_until_its_batch_commits(writer: Writer) -> None:
    staged, gate = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def stage_then_wait(uow: UnitOfWork) -> dict[str, Any]:
        row = warehouse("SLOW")(uow)
        seen["own"] = uow.get("warehouses", row["warehouse_id"])  # a command sees what it staged
        staged.set()
        gate.wait(10)
        return row

    with running(writer):
        future = submit(writer, stage_then_wait)
        assert staged.wait(10)
        # Staged, not committed: neither the writer's committed state nor the file has it.
        assert writer.state.lookup("warehouses", "code", "SLOW") == []
        assert db_rows(writer, "select count(*) from warehouses where code = 'SLOW'") == [(0,)]
        gate.set()
        row = future.result(10).body
    assert seen["own"] is not None and seen["own"]["code"] == "SLOW"
    assert writer.state.get("warehouses", (row["warehouse_id"],)) is not None
    assert db_rows(writer, "select count(*) from warehouses where code = 'SLOW'") == [(1,)]


def test_later_commands_in_a_batch_see_what_earlier_ones_staged(writer: Writer) -> None:
    made: dict[str, str] = {}
    seen: dict[str, Any] = {}

    def first(uow: UnitOfWork) -> dict[str, Any]:
        row = warehouse("FIRST")(uow)
        made["first"] = row["warehouse_id"]
        return row

    def second(uow: UnitOfWork) -> None:
        seen["by_key"] = uow.get("warehouses", made["first"])
        seen["by_index"] = [w["code"] for w in uow.lookup("warehouses", "code", "FIRST")]
        seen["in_scan"] = sorted(w["code"] for w in uow.scan("warehouses"))
        seen["committed"] = writer.state.get("warehouses", (made["first"],))

    def failing(uow: UnitOfWork) -> None:
        warehouse("GHOST")(uow)
        raise Conflict("changed my mind", code="test_conflict")

    def after_failure(uow: UnitOfWork) -> None:
        seen["ghost"] = uow.lookup("warehouses", "code", "GHOST")

    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, first),
                submit(writer, second),
                submit(writer, warehouse("FIRST")),  # same code again: sees the staged one
                submit(writer, failing),
                submit(writer, after_failure),
            ]
        first_row = futures[0].result(10).body
        futures[1].result(10)
        with pytest.raises(Conflict) as taken:
            futures[2].result(10)
        assert taken.value.code == "warehouse_code_taken"
        with pytest.raises(Conflict):
            futures[3].result(10)
        futures[4].result(10)

    assert seen["by_key"]["code"] == "FIRST"
    assert seen["by_index"] == ["FIRST"]
    assert seen["in_scan"] == ["FIRST"]
    assert seen["committed"] is None  # not committed while the batch was still running
    assert seen["ghost"] == []  # a failed command's staged rows are dropped whole
    seq, commands = last_commit(writer)
    assert commands == 5  # one commit for the whole batch, failures included in the count
    assert db_rows(writer, "select code, commit_seq from warehouses") == [("FIRST", seq)]
    assert db_rows(writer, "select target_id from audit_log where action = 'warehouse.create'") == [
        (first_row["warehouse_id"],)
    ]


# -- what a batch writes ------------------------------------------------------------


def test_several_updates_of_one_row_in_a_batch_are_one_row_write(
    writer: Writer, cat: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    sku, east = cat.sku["A"], cat.warehouse["east"]
    deltas = [5, -2, 7, 1, -3]
    spy = WriteSpy(monkeypatch)
    with running(writer):
        with one_batch(writer):
            futures = [
                submit(
                    writer,
                    lambda uow, d=d: inventory.adjust_stock(
                        uow, sku, east, inventory.AdjustStock(delta=d, reason="count")
                    ),
                )
                for d in deltas
            ]
        results = [f.result(10).body for f in futures]

    assert [r["on_hand"] for r in results] == [15, 13, 20, 21, 18]  # each saw the one before
    assert spy.of("stock_levels") == [("update", 1)]
    assert spy.of("stock_movements") == [("insert", len(deltas))]
    seq, commands = last_commit(writer)
    assert commands == len(deltas)
    assert db_rows(
        writer,
        "select on_hand, reserved, commit_seq from stock_levels where sku_id = ? and warehouse_id = ?",
        [sku, east],
    ) == [(18, 0, seq)]
    assert writer.state.get("stock_levels", (sku, east))["on_hand"] == 18  # type: ignore[index]


def test_delete_then_insert_of_one_key_in_a_batch_becomes_an_update(
    writer: Writer, cat: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("NY", "standard")

    def delete(uow: UnitOfWork) -> None:
        uow.delete("tax_rates", key)

    def insert(uow: UnitOfWork) -> None:
        assert uow.get("tax_rates", *key) is None  # the delete is visible to the next command
        uow.insert(
            "tax_rates",
            {"region": "NY", "tax_class": "standard", "rate": Decimal("0.09"), "updated_at": uow.now},
        )

    def delete_and_insert_in_one(uow: UnitOfWork) -> None:
        uow.delete("tax_rates", ("*", "standard"))
        uow.insert(
            "tax_rates",
            {"region": "*", "tax_class": "standard", "rate": Decimal("0.06"), "updated_at": uow.now},
        )

    spy = WriteSpy(monkeypatch)
    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, delete),
                submit(writer, insert),
                submit(writer, delete_and_insert_in_one),
            ]
        for f in futures:
            f.result(10)  # no primary key error

    assert spy.of("tax_rates") == [("update", 2)]
    assert db_rows(writer, "select region, rate from tax_rates order by region") == [
        ("*", Decimal("0.060000")),
        ("NY", Decimal("0.090000")),
    ]
    assert writer.state.get("tax_rates", key)["rate"] == Decimal("0.09")  # type: ignore[index]


def test_a_row_inserted_then_changed_or_deleted_in_one_batch_is_one_insert_or_nothing(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: dict[str, str] = {}

    def create(code: str) -> Callable[[UnitOfWork], Any]:
        def fn(uow: UnitOfWork) -> None:
            made[code] = warehouse(code)(uow)["warehouse_id"]

        return fn

    def rename(uow: UnitOfWork) -> None:
        uow.update("warehouses", made["KEEP"], name="Renamed", priority=7)

    def drop(uow: UnitOfWork) -> None:
        uow.delete("warehouses", (made["DROP"],))

    spy = WriteSpy(monkeypatch)
    with running(writer):
        with one_batch(writer):
            futures = [submit(writer, fn) for fn in (create("KEEP"), create("DROP"), rename, drop)]
        for f in futures:
            f.result(10)

    assert spy.of("warehouses") == [("insert", 1)]
    assert db_rows(writer, "select code, name, priority from warehouses") == [("KEEP", "Renamed", 7)]
    assert writer.state.get("warehouses", (made["DROP"],)) is None
    assert writer.state.get("warehouses", (made["KEEP"],))["name"] == "Renamed"  # type: ignore[index]


# -- residency: the order window ------------------------------------------------------


def test_a_cancelled_order_leaves_memory_with_its_children_and_is_read_back_on_demand(
    writer: Writer, cat: Catalogue
) -> None:
    order = run(writer, place_cmd(cat, [("A", 2), ("B", 1)]), STOREFRONT)
    order_id = order["order_id"]
    assert (order_id,) in writer.state.tables["orders"].rows
    assert hot_children(writer, order_id) == {"order_lines": 2, "order_allocations": 2, "order_discounts": 0}

    run(writer, lambda uow: svc.cancel_order(uow, order_id, svc.CancelOrder(reason="test")))
    assert (order_id,) not in writer.state.tables["orders"].rows
    assert hot_children(writer, order_id) == {"order_lines": 0, "order_allocations": 0, "order_discounts": 0}

    # A later command reads it back from the file, children and all, with its committed status.
    with pytest.raises(Conflict) as refused:
        run(writer, lambda uow: svc.cancel_order(uow, order_id, svc.CancelOrder(reason="again")))
    assert refused.value.code == "order_not_cancellable"
    reloaded = writer.state.get("orders", (order_id,))
    assert reloaded is not None and reloaded["status"] == "cancelled"
    assert hot_children(writer, order_id)["order_lines"] == 2
    lines = writer.state.lookup("order_allocations", "order_id", order_id)
    assert sorted(a["quantity_released"] for a in lines) == [1, 2]


def test_a_completed_order_leaves_memory_and_a_child_lookup_brings_the_whole_order_back(
    writer: Writer, cat: Catalogue
) -> None:
    order = run(writer, place_cmd(cat, [("A", 2)]), STOREFRONT)
    order_id, line_id = order["order_id"], order["lines"][0]["order_line_id"]
    pay(writer, order_id)
    shipment = ship(writer, order_id, cat.warehouse["east"], {line_id: 2})["shipment"]
    track = shipping.TrackingUpdate(status="delivered")
    run(writer, lambda uow: shipping.record_tracking(uow, shipment["shipment_id"], track))
    assert (order_id,) in writer.state.tables["orders"].rows  # open work stays in memory
    run(writer, lambda uow: svc.complete_order(uow, order_id))
    assert (order_id,) not in writer.state.tables["orders"].rows
    assert hot_children(writer, order_id) == {"order_lines": 0, "order_allocations": 0, "order_discounts": 0}
    assert writer.state.lookup("shipments", "order_id", order_id) == []

    line = writer.state.get("order_lines", (line_id,))  # a child first: its parent comes with it
    assert line is not None and line["quantity_shipped"] == 2
    assert writer.state.tables["orders"].rows[(order_id,)]["status"] == "completed"
    assert hot_children(writer, order_id)["order_allocations"] == 1


def test_an_order_placed_and_cancelled_in_one_batch_leaves_nothing_in_memory(
    writer: Writer, cat: Catalogue
) -> None:
    made: dict[str, str] = {}

    def place(uow: UnitOfWork) -> dict[str, Any]:
        body = place_cmd(cat, [("A", 1), ("B", 1)])(uow)
        made["order_id"] = body["order_id"]
        return body

    def cancel(uow: UnitOfWork) -> dict[str, Any]:
        return svc.cancel_order(uow, made["order_id"], svc.CancelOrder(reason="quick change"))

    with running(writer):
        with one_batch(writer):
            placed, cancelled = submit(writer, place, STOREFRONT), submit(writer, cancel)
        placed.result(10)
        assert cancelled.result(10).body["status"] == "cancelled"

    order_id = made["order_id"]
    assert db_rows(writer, "select status from orders where order_id = ?", [order_id]) == [("cancelled",)]
    assert (order_id,) not in writer.state.tables["orders"].rows
    assert hot_children(writer, order_id) == {"order_lines": 0, "order_allocations": 0, "order_discounts": 0}
