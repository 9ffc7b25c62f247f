from __future__ import annotations

import httpx

from tests.e2e.live import LiveServer, guest_order_body


def test_guest_checkout_and_tracking_over_real_http(
    live: LiveServer, keys: dict[str, str], sku_ids: list[str]
) -> None:
    with live.client(keys["storefront"]) as shop:
        placed = shop.post("/api/v1/orders", json=guest_order_body(sku_ids[0], 2))
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "pending_payment"
        assert (
            order["total_minor"] == sum(ln["total_minor"] for ln in order["lines"]) + order["shipping_minor"]
        )
        hidden = shop.get(f"/api/v1/orders/{order['order_id']}")
        assert hidden.status_code == 404
        seen = shop.get(
            f"/api/v1/orders/{order['order_id']}", headers={"X-Order-Token": order["access_token"]}
        )
        assert seen.status_code == 200 and seen.json()["status_label"]
    assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}
