"""No overselling over real HTTP: 200 buyers race for 10 units, three times, on a real server.

The serial writer checks and reserves stock in one place, so however many
requests arrive at once exactly the units on hand are sold and every other
buyer gets a 409 ``out_of_stock``. The journal is checked from the store file
after the server has stopped: Σ movements = stock level for every row.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, guest_order_body, seed
from transactional.storage.database import STORE_FILE

pytestmark = pytest.mark.slow

BUYERS = 200
UNITS = 10
ROUNDS = 3
_codes = itertools.count(1)


@dataclass
class Store:
    server: LiveServer
    keys: dict[str, str]
    warehouse_id: str
    category_id: str
    skus: list[str] = field(default_factory=list)  # every SKU this module created


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    data_dir = tmp_path_factory.mktemp("oversell")
    keys = seed(data_dir)
    server = LiveServer(data_dir, free_port()).start()
    try:
        with server.client(keys["admin"]) as admin:
            warehouses = admin.get("/api/v1/warehouses").json()["items"]
            categories = admin.get("/api/v1/categories").json()["items"]
        east = next(w for w in warehouses if w["code"] == "EAST")
        yield Store(server, keys, east["warehouse_id"], categories[0]["category_id"])
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.terminate()


def new_sku(store: Store, units: int = UNITS) -> str:
    """A fresh product and SKU (as admin, over the API) with ``units`` on hand in one warehouse only."""
    n = next(_codes)
    with store.server.client(store.keys["admin"]) as admin:
        product = admin.post(
            "/api/v1/products",
            json={"name": f"Race Item {n}", "category_id": store.category_id, "tax_class": "standard"},
        )
        assert product.status_code == 201, product.text
        sku = admin.post(
            f"/api/v1/products/{product.json()['product_id']}/skus",
            json={
                "sku_code": f"RACE-{n:03d}",
                "name": f"Race Item {n}",
                "unit_cost_minor": 500,
                "price_minor": 1500,
            },
        )
        assert sku.status_code == 201, sku.text
        sku_id: str = sku.json()["sku_id"]
        adjusted = admin.post(
            f"/api/v1/stock/{sku_id}/{store.warehouse_id}/adjustments",
            json={"delta": units, "reason": "test"},
        )
        assert adjusted.status_code == 201, adjusted.text
    store.skus.append(sku_id)
    return sku_id


def levels_of(store: Store, sku_id: str) -> list[dict[str, Any]]:
    with store.server.client(store.keys["admin"]) as admin:
        response = admin.get("/api/v1/stock", params={"sku_id": sku_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def _race(url: str, key: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies) + 50, max_keepalive_connections=len(bodies) + 50)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=60
    ) as client:
        go = asyncio.Event()

        async def buy(body: dict[str, Any]) -> httpx.Response:
            await go.wait()
            return await client.post("/api/v1/orders", json=body)

        tasks = [asyncio.create_task(buy(b)) for b in bodies]
        await asyncio.sleep(0)  # every buyer is waiting at the gate
        go.set()
        return await asyncio.gather(*tasks)


def race(store: Store, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    return asyncio.run(_race(store.server.url, store.keys["storefront"], bodies))


@pytest.mark.parametrize("round_no", range(1, ROUNDS + 1))
def test_200_buyers_race_for_10_units_and_exactly_10_win(store: Store, round_no: int) -> None:
    sku_id = new_sku(store)
    responses = race(
        store, [guest_order_body(sku_id, 1, guest_email=f"buyer{i}@example.com") for i in range(BUYERS)]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: UNITS, 409: BUYERS - UNITS}, f"round {round_no}: {statuses}"
    winners = [r.json() for r in responses if r.status_code == 201]
    losers = [r for r in responses if r.status_code == 409]
    assert {r.headers["content-type"] for r in losers} == {"application/problem+json"}
    assert {r.json()["code"] for r in losers} == {"out_of_stock"}
    assert len({w["order_id"] for w in winners}) == UNITS
    for order in winners:
        assert [(ln["sku_id"], ln["quantity"]) for ln in order["lines"]] == [(sku_id, 1)]
        assert [(a["warehouse_id"], a["quantity"]) for a in order["allocations"]] == [(store.warehouse_id, 1)]

    [level] = levels_of(store, sku_id)
    assert level["warehouse_id"] == store.warehouse_id
    assert (level["on_hand"], level["reserved"], level["available"]) == (UNITS, UNITS, 0)

    # Sold out stays sold out: one more buyer is refused and nothing moves.
    late = race(store, [guest_order_body(sku_id, 1)])[0]
    assert late.status_code == 409 and late.json()["code"] == "out_of_stock"
    assert levels_of(store, sku_id) == [level]


def test_two_lines_of_one_sku_count_together(store: Store) -> None:
    sku_id = new_sku(store)
    two_lines = [{"sku_id": sku_id, "quantity": 6}, {"sku_id": sku_id, "quantity": 5}]

    too_many = race(store, [guest_order_body(sku_id, lines=two_lines)])[0]
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["code"] == "out_of_stock"
    [level] = levels_of(store, sku_id)
    assert (level["on_hand"], level["reserved"], level["available"]) == (UNITS, 0, UNITS)

    exact = race(store, [guest_order_body(sku_id, lines=[two_lines[0], {"sku_id": sku_id, "quantity": 4}])])[
        0
    ]
    assert exact.status_code == 201, exact.text
    order = exact.json()
    assert sorted(ln["quantity"] for ln in order["lines"]) == [4, 6]
    assert sum(a["quantity"] for a in order["allocations"]) == UNITS
    [level] = levels_of(store, sku_id)
    assert (level["on_hand"], level["reserved"], level["available"]) == (UNITS, UNITS, 0)


def test_mixed_race_of_one_and_two_unit_buyers_never_oversells(store: Store) -> None:
    """Buyers of 1 and of 2 units race: whatever wins, reserved never passes on hand."""
    sku_id = new_sku(store)
    bodies = [guest_order_body(sku_id, 1 + i % 2) for i in range(BUYERS)]
    responses = race(store, bodies)
    sold = sum(
        b["lines"][0]["quantity"] for b, r in zip(bodies, responses, strict=True) if r.status_code == 201
    )
    assert {r.status_code for r in responses} <= {201, 409}
    # A one-unit buyer is refused only once nothing is left, and there are more of them than units.
    assert sold == UNITS
    [level] = levels_of(store, sku_id)
    assert (level["on_hand"], level["reserved"]) == (UNITS, sold)


def test_journal_explains_every_level_after_the_server_stops(store: Store) -> None:
    """Σ on_hand_delta / reserved_delta per SKU × warehouse equals stock_levels, read from the file."""
    if not store.skus:  # run on its own: still give the journal a race to explain
        test_two_lines_of_one_sku_count_together(store)
    assert store.server.terminate() == 0, store.server.log()
    con = duckdb.connect(str(store.server.data_dir / STORE_FILE), read_only=True)
    try:
        mismatched = con.execute(
            """
            with journal as (
                select sku_id, warehouse_id, sum(on_hand_delta) as on_hand, sum(reserved_delta) as reserved
                from stock_movements group by all
            )
            select l.sku_id, l.warehouse_id, l.on_hand, l.reserved, j.on_hand, j.reserved
            from stock_levels as l full outer join journal as j using (sku_id, warehouse_id)
            where l.on_hand is distinct from j.on_hand or l.reserved is distinct from j.reserved
            """
        ).fetchall()
        negative = con.execute(
            "select count(*) from stock_levels where reserved < 0 or on_hand < reserved"
        ).fetchone()
        race_levels = con.execute(
            "select sku_id, warehouse_id, on_hand, reserved from stock_levels where list_contains(?, sku_id)",
            [store.skus],
        ).fetchall()
        reservations = con.execute(
            "select count(*), sum(reserved_delta) from stock_movements "
            "where kind = 'reservation' and list_contains(?, sku_id)",
            [store.skus],
        ).fetchone()
        levels = con.execute("select count(*) from stock_levels").fetchone()
    finally:
        con.close()
    assert mismatched == []
    assert negative == (0,)
    assert levels is not None and levels[0] > len(store.skus)  # the seed's levels are checked too
    assert {(s, w) for s, w, _, _ in race_levels} == {(s, store.warehouse_id) for s in store.skus}
    assert all(on_hand == UNITS for _, _, on_hand, _ in race_levels)
    assert reservations is not None and reservations[1] == sum(r for _, _, _, r in race_levels)
