"""Crash and shutdown under load, on a real server: kill -9 loses nothing acknowledged and
leaves no half-written order; SIGTERM answers or refuses cleanly, commits, and exits 0.

16 clients place orders in a loop. Every order the server acknowledged (2xx)
must be in the store afterwards with its lines, allocations and reservation
movements; orders committed whose answer was lost in the crash are allowed,
half of an order is not. The store file is checked read-only once the server
has stopped.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, guest_order_body, seed
from transactional.storage.database import STORE_FILE

pytestmark = pytest.mark.slow

CLIENTS = 16
PLENTY = 1_000_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One seeded store, copied for each test (seeding is the slow part)."""
    data_dir = tmp_path_factory.mktemp("crash-template")
    return data_dir, seed(data_dir)


@dataclass
class Store:
    data_dir: Path
    keys: dict[str, str]
    sku_id: str = ""
    warehouse_id: str = ""


def start_store(template: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Store, LiveServer]:
    """A copy of the seeded store, served, with one SKU that has plenty of stock in one warehouse."""
    source, keys = template
    store = Store(tmp_path / "store", keys)
    shutil.copytree(source, store.data_dir)
    server = LiveServer(store.data_dir, free_port()).start()
    with server.client(keys["admin"]) as admin:
        warehouse = next(w for w in admin.get("/api/v1/warehouses").json()["items"] if w["code"] == "EAST")
        category = admin.get("/api/v1/categories").json()["items"][0]
        product = admin.post(
            "/api/v1/products",
            json={"name": "Crash Item", "category_id": category["category_id"], "tax_class": "standard"},
        )
        assert product.status_code == 201, product.text
        sku = admin.post(
            f"/api/v1/products/{product.json()['product_id']}/skus",
            json={"sku_code": "CRASH-1", "name": "Crash Item", "unit_cost_minor": 300, "price_minor": 900},
        )
        assert sku.status_code == 201, sku.text
        store.sku_id, store.warehouse_id = sku.json()["sku_id"], warehouse["warehouse_id"]
        adjusted = admin.post(
            f"/api/v1/stock/{store.sku_id}/{store.warehouse_id}/adjustments",
            json={"delta": PLENTY, "reason": "test"},
        )
        assert adjusted.status_code == 201, adjusted.text
    return store, server


@dataclass
class Load:
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # order_id → the 2xx body
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (when, exception type)
    in_flight: int = 0
    in_flight_at_stop: int = 0
    stop_sent_at: float = 0.0
    stop_result: Any = None
    acked_after_stop: int = 0


async def _hammer(url: str, key: str, sku_id: str, run_for: float, stop: Callable[[], Any]) -> Load:
    """CLIENTS loops placing orders; after ``run_for`` s call ``stop`` (in a thread, so requests stay
    in flight meanwhile); the loops end once it has returned."""
    load = Load()
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS * 2)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=15
    ) as client:

        async def worker(i: int) -> None:
            n = 0
            while not done.is_set():
                n += 1
                body = guest_order_body(sku_id, 1 + n % 3, guest_email=f"c{i}-{n}@example.com")
                load.in_flight += 1
                try:
                    response = await client.post("/api/v1/orders", json=body)
                except httpx.TransportError as exc:
                    load.errors.append((time.monotonic(), type(exc).__name__))
                    await asyncio.sleep(0.02)
                    continue
                finally:
                    load.in_flight -= 1
                load.statuses[response.status_code] += 1
                if 200 <= response.status_code < 300:
                    order = response.json()
                    load.acked[order["order_id"]] = order
                    if load.stop_sent_at:
                        load.acked_after_stop += 1

        workers = [asyncio.create_task(worker(i)) for i in range(CLIENTS)]
        await asyncio.sleep(run_for)
        load.in_flight_at_stop = load.in_flight
        load.stop_sent_at = time.monotonic()
        load.stop_result = await asyncio.to_thread(stop)
        done.set()
        await asyncio.gather(*workers)
    return load


def hammer(server: LiveServer, store: Store, run_for: float, stop: Callable[[], Any]) -> Load:
    return asyncio.run(_hammer(server.url, store.keys["storefront"], store.sku_id, run_for, stop))


def read_store(data_dir: Path) -> dict[str, Any]:
    """What the store file holds, opened read-only after the server has stopped."""
    con = duckdb.connect(str(data_dir / STORE_FILE), read_only=True)
    try:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(sql).fetchall()

        return {
            "orders": dict(rows("select order_id, status from orders")),
            "lines": rows("select order_id, order_line_id, sku_id, quantity, status from order_lines"),
            "allocations": rows(
                "select order_id, order_line_id, allocation_id, sku_id, warehouse_id, quantity, "
                "quantity_released, quantity_shipped from order_allocations"
            ),
            "reservations": rows(
                "select reference_id, sku_id, warehouse_id, on_hand_delta, reserved_delta from stock_movements "
                "where reference_type = 'order'"
            ),
            "history": rows("select order_id, from_status, to_status from order_status_history"),
            "journal_mismatches": rows(
                """
                with journal as (
                    select sku_id, warehouse_id, sum(on_hand_delta) as on_hand, sum(reserved_delta) as reserved
                    from stock_movements group by all
                )
                select * from stock_levels as l full outer join journal as j using (sku_id, warehouse_id)
                where l.on_hand is distinct from j.on_hand or l.reserved is distinct from j.reserved
                """
            ),
            "uncommitted_rows": rows(
                """
                select 'orders', count(*) from orders where commit_seq not in (select commit_seq from commits)
                union all select 'order_lines', count(*) from order_lines
                    where commit_seq not in (select commit_seq from commits)
                union all select 'order_allocations', count(*) from order_allocations
                    where commit_seq not in (select commit_seq from commits)
                union all select 'stock_movements', count(*) from stock_movements
                    where commit_seq not in (select commit_seq from commits)
                """
            ),
        }
    finally:
        con.close()


def assert_whole(db: dict[str, Any], load: Load) -> None:
    """Every acknowledged order is stored as acknowledged; every stored order is whole."""
    missing = set(load.acked) - set(db["orders"])
    assert not missing, f"{len(missing)} acknowledged orders lost, e.g. {sorted(missing)[:3]}"

    lines: dict[str, list[tuple[str, str, int]]] = {}
    for order_id, line_id, sku_id, qty, status in db["lines"]:
        assert status == "active"
        lines.setdefault(order_id, []).append((line_id, sku_id, qty))
    allocations: dict[str, list[tuple[str, str, str, int]]] = {}
    for order_id, line_id, alloc_id, _sku, wh, qty, released, shipped in db["allocations"]:
        assert (released, shipped) == (0, 0)
        allocations.setdefault(order_id, []).append((alloc_id, line_id, wh, qty))
    reserved: dict[str, Counter[tuple[str, str]]] = {}
    moves: Counter[str] = Counter()
    for order_id, sku_id, wh, on_hand_delta, reserved_delta in db["reservations"]:
        assert on_hand_delta == 0 and reserved_delta > 0
        reserved.setdefault(order_id, Counter())[(sku_id, wh)] += reserved_delta
        moves[order_id] += 1
    history = Counter(order_id for order_id, _, _ in db["history"])

    for order_id, status in db["orders"].items():
        assert status == "pending_payment"
        assert lines.get(order_id), f"order {order_id} has no lines"
        per_line = Counter()
        per_place: Counter[tuple[str, str]] = Counter()
        sku_of = {line_id: sku_id for line_id, sku_id, _ in lines[order_id]}
        for _, line_id, wh, qty in allocations.get(order_id, []):
            per_line[line_id] += qty
            per_place[(sku_of[line_id], wh)] += qty
        assert per_line == {line_id: qty for line_id, _, qty in lines[order_id]}, order_id
        assert reserved.get(order_id) == per_place, order_id
        assert moves[order_id] == len(allocations[order_id]), order_id
        assert history[order_id] == 1, order_id

    for order_id, body in load.acked.items():
        assert sorted(lines[order_id]) == sorted(
            (ln["order_line_id"], ln["sku_id"], ln["quantity"]) for ln in body["lines"]
        )
        assert sorted(allocations[order_id]) == sorted(
            (a["allocation_id"], a["order_line_id"], a["warehouse_id"], a["quantity"])
            for a in body["allocations"]
        )

    assert db["journal_mismatches"] == []
    assert all(n == 0 for _, n in db["uncommitted_rows"]), db["uncommitted_rows"]


def test_kill_9_during_order_placement_loses_no_acknowledged_order(
    template: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    store, server = start_store(template, tmp_path)
    try:
        load = hammer(server, store, 2.0, server.kill)
    finally:
        server.kill()
    assert load.in_flight_at_stop > 0, "the kill must land while requests are in flight"
    assert set(load.statuses) == {201}, load.statuses
    assert len(load.acked) > 50, f"too little load to mean anything: {len(load.acked)}"
    assert all(when >= load.stop_sent_at for when, _ in load.errors), "errors before the kill"
    assert server.proc is not None and server.proc.returncode == -9

    restarted = LiveServer(store.data_dir, free_port()).start()
    try:
        with restarted.client(store.keys["admin"]) as admin:
            # The newest acknowledgements are the ones a lost commit would take with it.
            newest = sorted(load.acked)[-20:]
            for order_id in newest:
                found = admin.get(f"/api/v1/orders/{order_id}")
                assert found.status_code == 200, found.text
                assert found.json()["lines"] == load.acked[order_id]["lines"]
        with restarted.client(store.keys["storefront"]) as shop:
            after = shop.post("/api/v1/orders", json=guest_order_body(store.sku_id, 2))
            assert after.status_code == 201, after.text
    finally:
        exit_code = restarted.terminate()
    assert exit_code == 0, restarted.log()

    db = read_store(store.data_dir)
    assert after.json()["order_id"] in db["orders"]
    load.acked[after.json()["order_id"]] = after.json()
    assert_whole(db, load)
    unanswered = len(db["orders"]) - len(load.acked)
    print(
        f"\nkill -9: {len(load.acked) - 1} orders acknowledged before the kill, "
        f"{load.in_flight_at_stop} requests in flight at the kill, "
        f"{len(db['orders']) - 1} stored before the restart ({unanswered} committed but unanswered), "
        f"{len(load.errors)} connection errors after it"
    )


def test_sigterm_under_load_answers_or_refuses_cleanly_and_commits_every_answer(
    template: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    store, server = start_store(template, tmp_path)
    try:
        load = hammer(server, store, 1.5, server.terminate)
    finally:
        server.kill()
    assert load.stop_result == 0, f"exit code {load.stop_result}:\n{server.log()}"
    assert load.in_flight_at_stop > 0, "SIGTERM must land while requests are in flight"
    server_errors = {s: n for s, n in load.statuses.items() if s >= 500}
    assert not server_errors, f"5xx during shutdown: {server_errors}\n{server.log()}"
    assert set(load.statuses) == {201}, load.statuses
    assert len(load.acked) > 50, f"too little load to mean anything: {len(load.acked)}"
    assert all(when >= load.stop_sent_at for when, _ in load.errors), "connection errors before SIGTERM"
    assert "Traceback" not in server.log(), server.log()

    db = read_store(store.data_dir)
    assert_whole(db, load)
    print(
        f"\nSIGTERM: {len(load.acked)} orders acknowledged ({load.acked_after_stop} answered after the "
        f"signal), {load.in_flight_at_stop} in flight at the signal, {len(db['orders'])} stored, "
        f"{len(load.errors)} connection errors after it: {Counter(e for _, e in load.errors)}"
    )
