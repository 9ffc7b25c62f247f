"""Bad requests over real HTTP: each gets a 4xx problem+json with its stable code and changes nothing.

"Changes nothing" is measured on objects this module owns: its own SKU
(stock levels and the movement journal), orders placed since the module
started (and those of its own customer), and the audit trail since then.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, guest_order_body
from tests.e2e.live import ok as _ok

STOCK = 10
PRICE = 2500
MIB = 1024 * 1024


@dataclass(frozen=True)
class World:
    sku_id: str
    east: str
    west: str
    customer_id: str
    since: str  # server time when the module's objects were made
    audit_after: str  # the last audit id before the module's tests ran
    revoked_key: str


def _pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, "limit": 200, **({"after": after} if after else {})}
        page = _ok(client.get(path, params=query))
        items += page["items"]
        after = page.get("next_after")
        if not after:
            return items


@pytest.fixture(scope="module")
def world(live: LiveServer, admin_m: httpx.Client) -> World:
    tag = uuid.uuid4().hex[:8]
    warehouses = {w["code"]: w["warehouse_id"] for w in _ok(admin_m.get("/api/v1/warehouses"))["items"]}
    category = _ok(admin_m.post("/api/v1/categories", json={"name": f"Bad input {tag}"}), 201)
    product = _ok(
        admin_m.post(
            "/api/v1/products",
            json={
                "name": f"Bad input widget {tag}",
                "category_id": category["category_id"],
                "tax_class": "standard",
            },
        ),
        201,
    )
    sku = _ok(
        admin_m.post(
            f"/api/v1/products/{product['product_id']}/skus",
            json={
                "sku_code": f"BAD-{tag}",
                "name": "Bad input widget",
                "unit_cost_minor": 1000,
                "price_minor": PRICE,
            },
        ),
        201,
    )
    _ok(
        admin_m.post(
            f"/api/v1/stock/{sku['sku_id']}/{warehouses['EAST']}/adjustments",
            json={"delta": STOCK, "reason": "test_bad_input opening stock"},
        ),
        201,
    )
    customer = _ok(
        admin_m.post(
            "/api/v1/customers", json={"email": f"bad-{tag}@example.com", "name": "Bea Bad", "region": "NY"}
        ),
        201,
    )
    key = _ok(admin_m.post("/api/v1/keys", json={"role": "operator", "name": f"bad input {tag}"}), 201)
    _ok(admin_m.post(f"/api/v1/keys/{key['key_id']}/revoke"))
    audit = _pages(admin_m, "/api/v1/audit")
    return World(
        sku_id=sku["sku_id"],
        east=warehouses["EAST"],
        west=warehouses["WEST"],
        customer_id=customer["customer_id"],
        since=customer["created_at"],
        audit_after=audit[-1]["audit_id"],
        revoked_key=key["secret"],
    )


@pytest.fixture(scope="module")
def operator(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["operator"]) as client:
        yield client


def snapshot(admin: httpx.Client, world: World) -> dict[str, Any]:
    """Everything a rejected request could have touched, as far as this module can see it."""
    stock = _ok(admin.get("/api/v1/stock", params={"sku_id": world.sku_id}))["items"]
    return {
        "stock": sorted((s["warehouse_id"], s["on_hand"], s["reserved"]) for s in stock),
        "movements": [
            m["movement_id"] for m in _pages(admin, "/api/v1/stock/movements", sku_id=world.sku_id)
        ],
        "orders_since": [o["order_id"] for o in _pages(admin, "/api/v1/orders", placed_from=world.since)],
        "customer_orders": [
            (o["order_id"], o["status"])
            for o in _pages(admin, "/api/v1/orders", customer_id=world.customer_id)
        ],
        "audit": [a["audit_id"] for a in _pages(admin, "/api/v1/audit", after=world.audit_after)],
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with the stable code, whose request_id matches the X-Request-ID header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    for field in ("type", "title", "status", "detail", "code"):
        assert body.get(field), f"problem without {field}: {body}"
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/{code}")
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


def order_body(world: World, quantity: Any = 1, **extra: Any) -> dict[str, Any]:
    body = guest_order_body(world.sku_id, quantity)
    del body["guest_email"]
    body["customer_id"] = world.customer_id
    body.update(extra)
    return body


# -- the table of bad requests ----------------------------------------------------
# Each builds (key role or literal header, method, path, httpx kwargs) from the world.

Request = tuple[str | None, str, str, dict[str, Any]]


def _lines(world: World, *lines: dict[str, Any]) -> dict[str, Any]:
    return order_body(world, lines=list(lines))


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


_BIG = b'{"sales_channel": "web", "note": "' + b"x" * (MIB + 1) + b'"}'

CASES: dict[str, tuple[Callable[[World], Request], int, str]] = {
    "unknown_sku": (
        # A valid first line must not be reserved when the second names no SKU.
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {
                "json": _lines(
                    w, {"sku_id": w.sku_id, "quantity": 1}, {"sku_id": "sku_zzz_missing", "quantity": 1}
                )
            },
        ),
        404,
        "sku_not_found",
    ),
    "quantity_zero": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, 0)}),
        422,
        "validation_error",
    ),
    "quantity_negative": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, -3)}),
        422,
        "validation_error",
    ),
    "quantity_as_string": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, "2")}),
        422,
        "validation_error",
    ),
    "quantity_as_float": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, 1.5)}),
        422,
        "validation_error",
    ),
    "unknown_customer": (
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {"json": order_body(w, customer_id="cus_zzz_missing")},
        ),
        404,
        "customer_not_found",
    ),
    "client_sent_line_price": (
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {"json": _lines(w, {"sku_id": w.sku_id, "quantity": 1, "unit_price_minor": 1})},
        ),
        422,
        "validation_error",
    ),
    "client_sent_order_total": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, total_minor=1)}),
        422,
        "validation_error",
    ),
    "currency_mismatch": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, currency="EUR")}),
        422,
        "currency_mismatch",
    ),
    "above_available": (
        lambda w: ("operator", "POST", "/api/v1/orders", {"json": order_body(w, STOCK + 1)}),
        409,
        "out_of_stock",
    ),
    "malformed_json": (
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {"content": b'{"lines": [{"sku_id": ', "headers": {"content-type": "application/json"}},
        ),
        400,
        "malformed_json",
    ),
    "body_too_large": (
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {"content": _BIG, "headers": {"content-type": "application/json"}},
        ),
        413,
        "body_too_large",
    ),
    "body_too_large_chunked": (
        # No Content-Length: the limit is found while the body streams in.
        lambda w: (
            "operator",
            "POST",
            "/api/v1/orders",
            {"content": _chunks(_BIG), "headers": {"content-type": "application/json"}},
        ),
        413,
        "body_too_large",
    ),
    "adjustment_too_large": (
        lambda w: (
            "operator",
            "POST",
            f"/api/v1/stock/{w.sku_id}/{w.east}/adjustments",
            {
                "content": b'{"delta": 1, "reason": "' + b"y" * (MIB + 1) + b'"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        413,
        "body_too_large",
    ),
    "page_size_over_200": (
        lambda w: ("operator", "GET", "/api/v1/orders", {"params": {"limit": 201}}),
        422,
        "validation_error",
    ),
    "stock_page_size_over_200": (
        lambda w: ("operator", "GET", "/api/v1/stock", {"params": {"limit": 201, "sku_id": w.sku_id}}),
        422,
        "validation_error",
    ),
    "page_size_zero": (
        lambda w: ("operator", "GET", "/api/v1/orders", {"params": {"limit": 0}}),
        422,
        "validation_error",
    ),
    "missing_key": (
        lambda w: (None, "POST", "/api/v1/orders", {"json": order_body(w)}),
        401,
        "missing_api_key",
    ),
    "unknown_key": (
        lambda w: ("emp_op_not-a-real-key", "POST", "/api/v1/orders", {"json": order_body(w)}),
        401,
        "invalid_api_key",
    ),
    "revoked_key": (
        lambda w: (w.revoked_key, "POST", "/api/v1/orders", {"json": order_body(w)}),
        401,
        "api_key_revoked",
    ),
    "wrong_role_order": (
        lambda w: ("finance", "POST", "/api/v1/orders", {"json": order_body(w)}),
        403,
        "role_forbidden",
    ),
    "wrong_role_adjust": (
        lambda w: (
            "storefront",
            "POST",
            f"/api/v1/stock/{w.sku_id}/{w.east}/adjustments",
            {"json": {"delta": 5, "reason": "not allowed"}},
        ),
        403,
        "role_forbidden",
    ),
    "adjust_unknown_warehouse": (
        lambda w: (
            "operator",
            "POST",
            f"/api/v1/stock/{w.sku_id}/whs_zzz_missing/adjustments",
            {"json": {"delta": 5, "reason": "count"}},
        ),
        404,
        "warehouse_not_found",
    ),
    "adjust_below_reserved": (
        lambda w: (
            "operator",
            "POST",
            f"/api/v1/stock/{w.sku_id}/{w.east}/adjustments",
            {"json": {"delta": -(STOCK + 1), "reason": "lost"}},
        ),
        409,
        "adjustment_below_reserved",
    ),
    "adjust_by_zero": (
        lambda w: (
            "operator",
            "POST",
            f"/api/v1/stock/{w.sku_id}/{w.east}/adjustments",
            {"json": {"delta": 0, "reason": "nothing"}},
        ),
        422,
        "invalid_quantity",
    ),
    "unknown_route": (
        lambda w: ("operator", "GET", "/api/v1/no-such-thing", {}),
        404,
        "route_not_found",
    ),
    "unknown_route_no_key": (
        lambda w: (None, "POST", "/api/v2/orders", {"json": order_body(w)}),
        404,
        "route_not_found",
    ),
    "method_not_allowed": (
        lambda w: ("operator", "DELETE", "/api/v1/orders", {}),
        405,
        "method_not_allowed",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_request_is_a_problem_and_changes_nothing(
    case: str, live: LiveServer, keys: dict[str, str], admin_m: httpx.Client, world: World
) -> None:
    build, status, code = CASES[case]
    who, method, path, kwargs = build(world)
    headers = dict(kwargs.pop("headers", {}))
    if who is not None:
        headers["Authorization"] = f"Bearer {keys.get(who, who)}"

    before = snapshot(admin_m, world)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        response = client.request(method, path, headers=headers, **kwargs)
    body = assert_problem(response, status, code)
    assert snapshot(admin_m, world) == before, f"{case} changed the store: {body}"

    if body["code"] == "validation_error":
        assert body["errors"], body
    if case in {"client_sent_line_price", "client_sent_order_total"}:
        assert [e["type"] for e in body["errors"]] == ["extra_forbidden"]
    if case.startswith("quantity"):
        assert any(e["loc"][-1] == "quantity" for e in body["errors"]), body
    if case == "above_available":
        assert "available" in body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_cancelling_a_shipped_order_is_409_and_changes_nothing(
    live: LiveServer, keys: dict[str, str], admin_m: httpx.Client, operator: httpx.Client, world: World
) -> None:
    order = _ok(operator.post("/api/v1/orders", json=order_body(world, 2)), 201)
    order_id = order["order_id"]
    card = {"method": "card", "token": "tok_sandbox_ok", "card_brand": "visa", "card_last4": "4242"}
    _ok(operator.post(f"/api/v1/orders/{order_id}/payments", json=card), 201)
    by_warehouse: dict[str, list[dict[str, Any]]] = {}
    for a in order["allocations"]:
        by_warehouse.setdefault(a["warehouse_id"], []).append(
            {"order_line_id": a["order_line_id"], "quantity": a["quantity"]}
        )
    for warehouse_id, lines in by_warehouse.items():
        _ok(
            operator.post(
                f"/api/v1/orders/{order_id}/shipments", json={"warehouse_id": warehouse_id, "lines": lines}
            ),
            201,
        )
    assert _ok(operator.get(f"/api/v1/orders/{order_id}"))["status"] == "shipped"

    before = snapshot(admin_m, world)
    # The probes see this module's own order, so an unchanged snapshot means something.
    assert order_id in before["orders_since"]
    assert (order_id, "shipped") in before["customer_orders"]
    response = operator.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"})
    body = assert_problem(response, 409, "order_not_cancellable")
    assert body["current"] == "shipped"
    assert snapshot(admin_m, world) == before

    after = _ok(operator.get(f"/api/v1/orders/{order_id}"))
    assert after["status"] == "shipped"
    assert after["cancelled_at"] is None
    assert [h["to_status"] for h in after["status_history"]][-1] == "shipped"

    # Modifying it is just as illegal, and also changes nothing.
    response = operator.patch(
        f"/api/v1/orders/{order_id}", json={"lines": [{"sku_id": world.sku_id, "quantity": 1}]}
    )
    assert_problem(response, 409, "order_not_modifiable")
    assert snapshot(admin_m, world) == before


def test_incoming_request_id_is_echoed(operator: httpx.Client, world: World) -> None:
    rid = f"e2e-{uuid.uuid4().hex}"
    response = operator.post("/api/v1/orders", json=order_body(world, 0), headers={"X-Request-ID": rid})
    body = assert_problem(response, 422, "validation_error")
    assert response.headers["x-request-id"] == rid
    assert body["request_id"] == rid
    assert body["instance"] == "/api/v1/orders"

    ok = operator.get("/api/v1/store", headers={"X-Request-ID": rid})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == rid


def test_request_ids_are_generated_and_unsafe_ones_replaced(live: LiveServer) -> None:
    first = httpx.get(f"{live.url}/api/v1/store")
    second = httpx.get(f"{live.url}/api/v1/store")
    assert_problem(first, 401, "missing_api_key")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]

    unsafe = httpx.get(f"{live.url}/api/v1/store", headers={"X-Request-ID": "bad id\twith spaces"})
    body = assert_problem(unsafe, 401, "missing_api_key")
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    assert body["request_id"] == unsafe.headers["x-request-id"]
