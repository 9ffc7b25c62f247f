"""Idempotency-Key over real HTTP: replays, reuse with another body, scope, concurrency, retry after failure.

Each test places orders for its own customer on this module's own SKU, so
"one order" and "reserved once" are counted exactly on objects nobody else touches.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, guest_order_body
from tests.e2e.live import ok as _ok


@dataclass(frozen=True)
class Sku:
    sku_id: str
    east: str


@pytest.fixture(scope="module")
def operator_key(admin_m: httpx.Client) -> str:
    """A fresh operator key of this module's own, so no other test shares its idempotency scope."""
    created = _ok(admin_m.post("/api/v1/keys", json={"role": "operator", "name": "idempotency test"}), 201)
    return created["secret"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def operator(live: LiveServer, operator_key: str) -> Iterator[httpx.Client]:
    with live.client(operator_key) as client:
        yield client


@pytest.fixture(scope="module")
def product_id(admin_m: httpx.Client) -> str:
    tag = uuid.uuid4().hex[:8]
    category = _ok(admin_m.post("/api/v1/categories", json={"name": f"Idempotency {tag}"}), 201)
    product = _ok(
        admin_m.post(
            "/api/v1/products",
            json={
                "name": f"Idem widget {tag}",
                "category_id": category["category_id"],
                "tax_class": "standard",
            },
        ),
        201,
    )
    return product["product_id"]  # type: ignore[no-any-return]


@pytest.fixture
def make_sku(admin_m: httpx.Client, product_id: str) -> Any:
    warehouses = {w["code"]: w["warehouse_id"] for w in _ok(admin_m.get("/api/v1/warehouses"))["items"]}

    def make(stock: int) -> Sku:
        code = f"IDEM-{uuid.uuid4().hex[:10]}"
        sku = _ok(
            admin_m.post(
                f"/api/v1/products/{product_id}/skus",
                json={"sku_code": code, "name": code, "unit_cost_minor": 400, "price_minor": 1000},
            ),
            201,
        )
        if stock:
            _ok(
                admin_m.post(
                    f"/api/v1/stock/{sku['sku_id']}/{warehouses['EAST']}/adjustments",
                    json={"delta": stock, "reason": "test_idempotency stock"},
                ),
                201,
            )
        return Sku(sku["sku_id"], warehouses["EAST"])

    return make


@pytest.fixture
def customer_id(admin_m: httpx.Client) -> str:
    email = f"idem-{uuid.uuid4().hex[:10]}@example.com"
    created = _ok(
        admin_m.post("/api/v1/customers", json={"email": email, "name": "Ida Idem", "region": "NY"}), 201
    )
    return created["customer_id"]  # type: ignore[no-any-return]


def order_body(customer_id: str, sku_id: str, quantity: int) -> dict[str, Any]:
    body = guest_order_body(sku_id, quantity)
    del body["guest_email"]
    body["customer_id"] = customer_id
    return body


def levels(admin: httpx.Client, sku: Sku) -> dict[str, tuple[int, int]]:
    items = _ok(admin.get("/api/v1/stock", params={"sku_id": sku.sku_id}))["items"]
    return {s["warehouse_id"]: (s["on_hand"], s["reserved"]) for s in items}


def reserved(admin: httpx.Client, sku: Sku) -> int:
    return sum(r for _, r in levels(admin, sku).values())


def movements(admin: httpx.Client, sku: Sku) -> list[dict[str, Any]]:
    return _ok(admin.get("/api/v1/stock/movements", params={"sku_id": sku.sku_id, "limit": 200}))["items"]


def orders_of(admin: httpx.Client, customer_id: str) -> list[dict[str, Any]]:
    return _ok(admin.get("/api/v1/orders", params={"customer_id": customer_id, "limit": 200}))["items"]


def idem(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def test_same_key_same_body_replays_the_stored_response(
    operator: httpx.Client, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(20)
    body = order_body(customer_id, sku.sku_id, 3)
    key = uuid.uuid4().hex

    first = operator.post("/api/v1/orders", json=body, headers=idem(key))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    after_first = (levels(admin_m, sku), len(movements(admin_m, sku)))

    for _ in range(2):
        replay = operator.post("/api/v1/orders", json=body, headers=idem(key))
        assert replay.status_code == 201, replay.text
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == first.json()
        # The replay is answered from the store, but as a request of its own.
        assert replay.headers["x-request-id"] != first.headers["x-request-id"]

    assert [o["order_id"] for o in orders_of(admin_m, customer_id)] == [first.json()["order_id"]]
    assert reserved(admin_m, sku) == 3
    assert (levels(admin_m, sku), len(movements(admin_m, sku))) == after_first
    reservations = [m for m in movements(admin_m, sku) if m["kind"] == "reservation"]
    assert [m["reserved_delta"] for m in reservations] == [3]


def test_same_key_other_body_is_409_and_changes_nothing(
    operator: httpx.Client, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(20)
    key = uuid.uuid4().hex
    first = _ok(
        operator.post("/api/v1/orders", json=order_body(customer_id, sku.sku_id, 2), headers=idem(key)), 201
    )
    before = (levels(admin_m, sku), len(movements(admin_m, sku)), orders_of(admin_m, customer_id))

    other = operator.post("/api/v1/orders", json=order_body(customer_id, sku.sku_id, 5), headers=idem(key))
    assert other.status_code == 409, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"
    assert "idempotent-replayed" not in other.headers
    assert (levels(admin_m, sku), len(movements(admin_m, sku)), orders_of(admin_m, customer_id)) == before

    # The original body still replays after the conflict.
    replay = operator.post("/api/v1/orders", json=order_body(customer_id, sku.sku_id, 2), headers=idem(key))
    assert replay.status_code == 201 and replay.json()["order_id"] == first["order_id"]


def test_key_is_scoped_per_api_key(
    operator: httpx.Client, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(20)
    body = order_body(customer_id, sku.sku_id, 1)
    key = uuid.uuid4().hex

    mine = _ok(operator.post("/api/v1/orders", json=body, headers=idem(key)), 201)
    theirs = admin_m.post("/api/v1/orders", json=body, headers=idem(key))
    assert theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["order_id"] != mine["order_id"]
    # And another key's body does not make this key's replay a conflict.
    other_body = admin_m.post(
        "/api/v1/orders", json=order_body(customer_id, sku.sku_id, 2), headers=idem(key)
    )
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"

    assert {o["order_id"] for o in orders_of(admin_m, customer_id)} == {
        mine["order_id"],
        theirs.json()["order_id"],
    }
    assert reserved(admin_m, sku) == 2


def test_key_is_scoped_per_path(
    operator: httpx.Client, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(20)
    key = uuid.uuid4().hex
    order = _ok(
        operator.post("/api/v1/orders", json=order_body(customer_id, sku.sku_id, 1), headers=idem(key)), 201
    )

    adjust_path = f"/api/v1/stock/{sku.sku_id}/{sku.east}/adjustments"
    adjust = {"delta": 4, "reason": "found in a corner"}
    adjusted = operator.post(adjust_path, json=adjust, headers=idem(key))
    assert adjusted.status_code == 201, adjusted.text
    assert "idempotent-replayed" not in adjusted.headers
    assert adjusted.json()["on_hand"] == 24

    again = operator.post(adjust_path, json=adjust, headers=idem(key))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == adjusted.json()
    assert levels(admin_m, sku)[sku.east] == (24, 1)
    assert [m["on_hand_delta"] for m in movements(admin_m, sku) if m["kind"] == "adjustment"] == [20, 4]

    # The same key on yet another path: cancelling the order it placed.
    cancel_path = f"/api/v1/orders/{order['order_id']}/cancel"
    cancelled = operator.post(cancel_path, json={"reason": "test"}, headers=idem(key))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert "idempotent-replayed" not in cancelled.headers
    replayed = operator.post(cancel_path, json={"reason": "test"}, headers=idem(key))
    assert replayed.status_code == 200 and replayed.headers["idempotent-replayed"] == "true"
    assert levels(admin_m, sku)[sku.east] == (24, 0)

    # The order replay is untouched by the later uses of the key.
    order_replay = operator.post(
        "/api/v1/orders", json=order_body(customer_id, sku.sku_id, 1), headers=idem(key)
    )
    assert order_replay.headers["idempotent-replayed"] == "true"
    assert order_replay.json()["order_id"] == order["order_id"]
    assert order_replay.json()["status"] == "pending_payment"  # the stored response, as first answered


def test_twenty_concurrent_duplicates_make_one_order(
    live: LiveServer, operator_key: str, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(30)
    body = order_body(customer_id, sku.sku_id, 2)
    key = uuid.uuid4().hex

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {operator_key}"}, timeout=30, limits=limits
        ) as client:
            return await asyncio.gather(
                *(client.post("/api/v1/orders", json=body, headers=idem(key)) for _ in range(20))
            )

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [201] * 20, [
        r.text for r in responses if r.status_code != 201
    ]
    order_ids = {r.json()["order_id"] for r in responses}
    assert len(order_ids) == 1
    fresh = [r for r in responses if r.headers.get("idempotent-replayed") != "true"]
    assert len(fresh) == 1, "exactly one request did the work; the others replayed it"

    assert [o["order_id"] for o in orders_of(admin_m, customer_id)] == list(order_ids)
    assert levels(admin_m, sku)[sku.east] == (30, 2)
    assert [m["reserved_delta"] for m in movements(admin_m, sku) if m["kind"] == "reservation"] == [2]


def test_a_failed_request_can_be_retried_with_the_same_key(
    operator: httpx.Client, admin_m: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(2)
    body = order_body(customer_id, sku.sku_id, 5)
    key = uuid.uuid4().hex

    failed = operator.post("/api/v1/orders", json=body, headers=idem(key))
    assert failed.status_code == 409 and failed.json()["code"] == "out_of_stock", failed.text
    # A failure is not stored: retrying before stock arrives fails the same way, not as a replay.
    again = operator.post("/api/v1/orders", json=body, headers=idem(key))
    assert again.status_code == 409 and "idempotent-replayed" not in again.headers
    assert orders_of(admin_m, customer_id) == []
    assert levels(admin_m, sku)[sku.east] == (2, 0)

    _ok(
        admin_m.post(
            f"/api/v1/stock/{sku.sku_id}/{sku.east}/adjustments",
            json={"delta": 10, "reason": "delivery arrived"},
        ),
        201,
    )
    retried = operator.post("/api/v1/orders", json=body, headers=idem(key))
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    replay = operator.post("/api/v1/orders", json=body, headers=idem(key))
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["order_id"] == retried.json()["order_id"]

    assert [o["order_id"] for o in orders_of(admin_m, customer_id)] == [retried.json()["order_id"]]
    assert levels(admin_m, sku)[sku.east] == (12, 5)


def test_an_invalid_idempotency_key_is_rejected(
    operator: httpx.Client, make_sku: Any, customer_id: str
) -> None:
    sku = make_sku(0)
    response = operator.post(
        "/api/v1/orders", json=order_body(customer_id, sku.sku_id, 1), headers=idem("k" * 256)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_idempotency_key"
