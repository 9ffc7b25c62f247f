"""Dispatch, tracking, carrier webhooks, refunds by lines and cancellations over real HTTP.

Orders are guest orders on this module's own SKU (stock in EAST only, so each order ships from
one warehouse), paid with the sandbox's test tokens. Every refusal is checked to change nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.live import LiveServer, guest_order_body, stocked_sku
from tests.e2e.live import ok as _ok
from transactional.api.routes.shipping import SIGNATURE_HEADER, sign

CARD = {"method": "card", "token": "tok_sandbox_ok", "card_brand": "visa", "card_last4": "4242"}


@pytest.fixture(scope="module")
def operator(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["operator"]) as client:
        yield client


@pytest.fixture(scope="module")
def finance(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["finance"]) as client:
        yield client


@pytest.fixture(scope="module")
def world(admin_m: httpx.Client) -> dict[str, str]:
    """A SKU with stock in EAST only, and a carrier of this module with its webhook secret."""
    tag = uuid.uuid4().hex[:8]
    sku_id, east = stocked_sku(admin_m, "Fulfilment", stock=200, price_minor=1200, weight_grams=800)
    code = f"c{tag}"
    carrier = _ok(
        admin_m.post(
            "/api/v1/carriers",
            json={
                "code": code,
                "name": f"Carrier {tag}",
                "services": [
                    {
                        "code": "road",
                        "name": "Road",
                        "handling_hours": 24,
                        "base_minor": 400,
                        "per_kg_minor": 100,
                        "transit_days": {"*": 3},
                    }
                ],
            },
        ),
        201,
    )
    return {
        "sku_id": sku_id,
        "east": east,
        "carrier": code,
        "secret": carrier["webhook_secret"],
    }


def _paid_order(
    live: LiveServer, keys: dict[str, str], world: dict[str, str], qty: int = 2, **pay: Any
) -> dict[str, Any]:
    with live.client(keys["storefront"]) as shop:
        order = _ok(shop.post("/api/v1/orders", json=guest_order_body(world["sku_id"], qty)), 201)
        _ok(
            shop.post(
                f"/api/v1/orders/{order['order_id']}/payments",
                json={**CARD, **pay},
                headers={"X-Order-Token": order["access_token"]},
            ),
            201,
        )
    return order


def _ship(
    operator: httpx.Client, order: dict[str, Any], world: dict[str, str], qty: int, **extra: Any
) -> httpx.Response:
    line = order["lines"][0]["order_line_id"]
    return operator.post(
        f"/api/v1/orders/{order['order_id']}/shipments",
        json={"warehouse_id": world["east"], "lines": [{"order_line_id": line, "quantity": qty}], **extra},
    )


def _webhook(
    live: LiveServer,
    world: dict[str, str],
    body: dict[str, Any],
    *,
    secret: str | None = None,
    at: int | None = None,
) -> httpx.Response:
    raw = orjson.dumps(body)
    header = sign(secret or world["secret"], raw, at if at is not None else int(time.time()))
    return httpx.post(
        f"{live.url}/api/v1/carriers/{world['carrier']}/webhook",
        content=raw,
        headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
        timeout=30,
    )


def _order(admin: httpx.Client, order_id: str) -> dict[str, Any]:
    return _ok(admin.get(f"/api/v1/orders/{order_id}"))


def test_paid_order_ships_in_parcels_and_tracking_delivers_it(
    live: LiveServer,
    keys: dict[str, str],
    world: dict[str, str],
    operator: httpx.Client,
    admin_m: httpx.Client,
) -> None:
    order = _paid_order(live, keys, world, qty=3)
    assert _order(admin_m, order["order_id"])["status"] == "picking"
    first = _ok(_ship(operator, order, world, 1), 201)
    assert first["order"]["status"] == "partially_shipped"
    parcel = first["shipment"]
    assert parcel["capture_status"] == "captured" and parcel["capture_minor"] > 0
    assert parcel["promised_delivery_date"] is not None and parcel["shipping_cost_minor"] > 0
    assert "provider_request" not in first
    second = _ok(
        _ship(
            operator,
            order,
            world,
            2,
            carrier_code=world["carrier"],
            service_code="road",
            tracking_number="ZX 9988 7766",
        ),
        201,
    )
    assert second["order"]["status"] == "shipped" and second["shipment"]["tracking_number"] == "ZX99887766"
    payments = _ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"]
    assert payments[0]["captured_minor"] == order["total_minor"] and payments[0]["status"] == "captured"

    for p in (parcel, second["shipment"]):
        _ok(
            operator.post(
                f"/api/v1/shipments/{p['shipment_id']}/tracking-events", json={"status": "in_transit"}
            ),
            201,
        )
    _ok(
        operator.post(
            f"/api/v1/shipments/{parcel['shipment_id']}/tracking-events", json={"status": "delivered"}
        ),
        201,
    )
    assert _order(admin_m, order["order_id"])["status"] == "shipped"
    # The carrier reports the second parcel by webhook.
    done = _ok(
        _webhook(
            live, world, {"tracking_number": "ZX99887766", "status": "delivered", "location": "Queens NY"}
        ),
        201,
    )
    assert done["order_status"] == "delivered"
    detail = _ok(operator.get(f"/api/v1/shipments/{second['shipment']['shipment_id']}"))
    assert [e["source"] for e in detail["tracking_events"]] == ["operator", "carrier"]
    assert detail["notifications"][0]["promised_delivery_date"] == detail["promised_delivery_date"]
    listed = _ok(operator.get("/api/v1/shipments", params={"order_id": order["order_id"]}))["items"]
    assert {s["shipment_id"] for s in listed} == {parcel["shipment_id"], second["shipment"]["shipment_id"]}


def test_webhooks_need_a_fresh_valid_signature_and_change_nothing_otherwise(
    live: LiveServer,
    keys: dict[str, str],
    world: dict[str, str],
    operator: httpx.Client,
    admin_m: httpx.Client,
) -> None:
    order = _paid_order(live, keys, world)
    shipment = _ok(_ship(operator, order, world, 2, carrier_code=world["carrier"], service_code="road"), 201)[
        "shipment"
    ]
    event = {"tracking_number": shipment["tracking_number"], "status": "delivered"}
    forged = _webhook(live, world, event, secret="whsec_not_the_secret")
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
    stale = _webhook(live, world, event, at=int(time.time()) - 3600)
    assert stale.status_code == 401
    unsigned = httpx.post(f"{live.url}/api/v1/carriers/{world['carrier']}/webhook", json=event, timeout=30)
    assert unsigned.status_code == 401
    unknown = _webhook(live, world, {"tracking_number": "NOSUCH0000", "status": "delivered"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "shipment_not_found"
    future = _webhook(live, world, {**event, "occurred_at": "2099-01-01T00:00:00Z"})
    assert future.status_code == 422 and future.json()["code"] == "timestamp_in_future"
    invalid = _webhook(live, world, {**event, "status": "teleported"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_tracking_status"
    shapeless = _webhook(live, world, {"status": "delivered"})
    assert shapeless.status_code == 422
    detail = _ok(operator.get(f"/api/v1/shipments/{shipment['shipment_id']}"))
    assert detail["tracking_status"] == "label_created" and detail["tracking_events"] == []
    assert _order(admin_m, order["order_id"])["status"] == "shipped"
    # An illegal step for the parcel (back from delivered) is a 409 and is not recorded.
    _ok(_webhook(live, world, event), 201)
    backwards = _webhook(live, world, {**event, "status": "in_transit"})
    assert backwards.status_code == 409 and backwards.json()["code"] == "illegal_tracking_transition"
    assert len(_ok(operator.get(f"/api/v1/shipments/{shipment['shipment_id']}"))["tracking_events"]) == 1


def test_operator_tracking_refuses_unknown_shipments_and_bad_input(operator: httpx.Client) -> None:
    missing = operator.post("/api/v1/shipments/shp_missing/tracking-events", json={"status": "delivered"})
    assert missing.status_code == 404 and missing.json()["code"] == "shipment_not_found"
    card = operator.post(
        "/api/v1/shipments/shp_missing/tracking-events",
        json={"status": "delivered", "location": "4111-1111-1111-1111"},
    )
    assert card.status_code in (404, 422) and "4111" not in card.text


def test_refund_by_lines_releases_unshipped_units_and_refunds_their_own_amounts(
    live: LiveServer,
    keys: dict[str, str],
    world: dict[str, str],
    operator: httpx.Client,
    finance: httpx.Client,
    admin_m: httpx.Client,
) -> None:
    order = _paid_order(
        live, keys, world, qty=3, method="alipay", token="tok_sandbox_ok", card_brand=None, card_last4=None
    )
    line = order["lines"][0]
    stock_before = _ok(admin_m.get("/api/v1/stock", params={"sku_id": world["sku_id"]}))
    refund = _ok(
        finance.post(
            "/api/v1/refunds",
            json={
                "order_id": order["order_id"],
                "lines": [{"order_line_id": line["order_line_id"], "quantity": 1}],
                "reason": "out of stock",
            },
        ),
        201,
    )
    unit = line["total_minor"] // 3
    assert refund["amount_minor"] == unit and refund["shipping_minor"] == 0
    after = _order(admin_m, order["order_id"])
    assert (after["lines"][0]["quantity_refunded"], after["lines"][0]["quantity_cancelled"]) == (1, 1)
    stock_after = _ok(admin_m.get("/api/v1/stock", params={"sku_id": world["sku_id"]}))
    reserved = {r["warehouse_id"]: r["reserved"] for r in stock_before["items"]}
    assert {r["warehouse_id"]: r["reserved"] for r in stock_after["items"]}[world["east"]] == reserved[
        world["east"]
    ] - 1
    # More units than are left, and both amount and lines, are refused without a change.
    too_many = finance.post(
        "/api/v1/refunds",
        json={
            "order_id": order["order_id"],
            "lines": [{"order_line_id": line["order_line_id"], "quantity": 3}],
            "reason": "x",
        },
    )
    assert too_many.status_code == 409 and too_many.json()["code"] == "refund_exceeds_line"
    both = finance.post(
        "/api/v1/refunds",
        json={"order_id": order["order_id"], "amount_minor": 5, "lines": [], "reason": "x"},
    )
    assert both.status_code == 422 and both.json()["code"] == "amount_or_lines"
    # Ship the other two: the order is shipped; refunding one of them later is a return.
    assert _ok(_ship(operator, order, world, 2), 201)["order"]["status"] == "shipped"
    returned = _ok(
        finance.post(
            "/api/v1/refunds",
            json={
                "order_id": order["order_id"],
                "lines": [{"order_line_id": line["order_line_id"], "quantity": 1}],
                "include_shipping": True,
                "reason": "arrived broken",
            },
        ),
        201,
    )
    assert returned["shipping_minor"] == order["shipping_minor"]
    final = _order(admin_m, order["order_id"])["lines"][0]
    assert (final["quantity_refunded"], final["quantity_cancelled"], final["quantity_shipped"]) == (2, 1, 2)


def test_cancelling_a_paid_order_voids_its_hold(
    live: LiveServer,
    keys: dict[str, str],
    world: dict[str, str],
    operator: httpx.Client,
    admin_m: httpx.Client,
) -> None:
    order = _paid_order(live, keys, world)
    cancelled = _ok(
        operator.post(f"/api/v1/orders/{order['order_id']}/cancel", json={"reason": "customer asked"})
    )
    assert cancelled["status"] == "cancelled" and "follow_up" not in cancelled
    payment = _ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"][0]
    assert payment["status"] == "voided" and payment["voided_minor"] == order["total_minor"]


def test_payment_bad_input_is_refused_and_changes_nothing(
    live: LiveServer,
    keys: dict[str, str],
    world: dict[str, str],
    finance: httpx.Client,
    admin_m: httpx.Client,
) -> None:
    order = _paid_order(live, keys, world)
    payment = _ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"][0]
    pid = payment["payment_id"]
    before = _ok(finance.get("/api/v1/ledger/balances"))["totals"]
    over = finance.post(f"/api/v1/payments/{pid}/capture", json={"amount_minor": order["total_minor"] + 1})
    assert over.status_code == 422 and over.json()["code"] == "capture_exceeds_authorized"
    refund = finance.post(
        "/api/v1/refunds", json={"payment_id": pid, "amount_minor": 1, "reason": "nothing captured"}
    )
    assert refund.status_code in (409, 422)
    _ok(finance.post(f"/api/v1/payments/{pid}/void"))
    after_void = _ok(finance.get("/api/v1/ledger/balances"))["totals"]
    voided = finance.post(f"/api/v1/payments/{pid}/capture", json={})
    assert voided.status_code == 409 and voided.json()["code"] == "payment_not_capturable"
    assert _ok(finance.get("/api/v1/ledger/balances"))["totals"] == after_void != before

    with live.client(keys["storefront"]) as shop:
        fresh = _ok(shop.post("/api/v1/orders", json=guest_order_body(world["sku_id"], 1)), 201)
        headers = {"X-Order-Token": fresh["access_token"]}
        url = f"/api/v1/orders/{fresh['order_id']}/payments"
        method = shop.post(url, json={**CARD, "method": "cheque"}, headers=headers)
        assert method.status_code == 422
        currency = shop.post(url, json={**CARD, "currency": "EUR"}, headers=headers)
        assert currency.status_code == 422 and currency.json()["code"] == "currency_mismatch"
        credit = shop.post(url, json={"method": "store_credit"}, headers=headers)
        assert credit.status_code in (409, 422)  # a guest has no store credit
        assert _ok(admin_m.get(f"/api/v1/orders/{fresh['order_id']}/payments"))["items"] == []
