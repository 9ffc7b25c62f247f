"""The payment station over real HTTP, against the sandbox provider: pay, capture, refund, ledger.

Every test places guest orders on this module's own SKU, paid with the sandbox's
test tokens (providers/payments.py), so nothing here touches another test's objects.
Ledger checks compare balances before and after, since the ledger is shared.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, guest_order_body, stocked_sku
from tests.e2e.live import ok as _ok

CARD = {"method": "card", "token": "tok_sandbox_ok", "card_brand": "visa", "card_last4": "4242"}


@pytest.fixture(scope="module")
def finance(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["finance"]) as client:
        yield client


@pytest.fixture(scope="module")
def storefront(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["storefront"]) as client:
        yield client


@pytest.fixture(scope="module")
def sku_id(admin_m: httpx.Client) -> str:
    return stocked_sku(admin_m, "Payments", stock=500)[0]


@pytest.fixture
def order(storefront: httpx.Client, sku_id: str) -> dict[str, Any]:
    """A fresh guest order awaiting payment (with its access token)."""
    placed = _ok(storefront.post("/api/v1/orders", json=guest_order_body(sku_id, 2)), 201)
    assert placed["status"] == "pending_payment"
    return placed


def _guest(order: dict[str, Any]) -> dict[str, str]:
    return {"X-Order-Token": order["access_token"]}


def _pay(client: httpx.Client, order: dict[str, Any], body: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post(
        f"/api/v1/orders/{order['order_id']}/payments", json=body, headers={**_guest(order), **headers}
    )


def _status(admin: httpx.Client, order: dict[str, Any]) -> str:
    return _ok(admin.get(f"/api/v1/orders/{order['order_id']}"))["status"]  # type: ignore[no-any-return]


def _totals(finance: httpx.Client) -> dict[str, int]:
    return _ok(finance.get("/api/v1/ledger/balances"))["totals"]  # type: ignore[no-any-return]


def test_card_authorize_capture_in_parts_books_revenue(
    storefront: httpx.Client, finance: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    before = _totals(finance)
    payment = _ok(_pay(storefront, order, CARD), 201)
    assert payment["status"] == "authorized"
    assert payment["amount_minor"] == order["total_minor"]
    assert "token" not in payment
    assert _status(admin_m, order) == "picking"

    # The guest sees its payment; another guest's token does not.
    listed = _ok(storefront.get(f"/api/v1/orders/{order['order_id']}/payments", headers=_guest(order)))
    assert [p["payment_id"] for p in listed["items"]] == [payment["payment_id"]]
    assert all("token" not in p for p in listed["items"])
    assert storefront.get(f"/api/v1/orders/{order['order_id']}/payments").status_code == 404

    first = order["total_minor"] // 3
    partial = _ok(
        finance.post(f"/api/v1/payments/{payment['payment_id']}/capture", json={"amount_minor": first})
    )
    assert partial["status"] == "partially_captured" and partial["captured_minor"] == first
    rest = _ok(finance.post(f"/api/v1/payments/{payment['payment_id']}/capture", json={}))
    assert rest["status"] == "captured" and rest["captured_minor"] == order["total_minor"]

    after = _totals(finance)

    def delta(account: str) -> int:
        return after.get(account, 0) - before.get(account, 0)

    # Credit-normal accounts read negative: revenue + tax + shipping = the order total.
    assert delta("sales_revenue") == -(order["total_minor"] - order["tax_minor"] - order["shipping_minor"])
    assert delta("tax_payable") == -order["tax_minor"]
    assert delta("shipping_revenue") == -order["shipping_minor"]
    assert sum(after.values()) == 0

    # A refund above what was captured changes nothing.
    too_much = finance.post(
        "/api/v1/refunds",
        json={
            "payment_id": payment["payment_id"],
            "amount_minor": order["total_minor"] + 1,
            "reason": "test",
        },
    )
    # The domain raises Invalid (the amount breaks a rule), which the API maps to 422.
    assert too_much.status_code == 422, too_much.text
    assert too_much.json()["code"] == "refund_exceeds_captured"
    assert _totals(finance) == after
    unchanged = _ok(finance.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"][0]
    assert unchanged["refunded_minor"] == 0 and unchanged["refunds"] == []

    # A refund within it goes back to the card.
    refund = _ok(
        finance.post(
            "/api/v1/refunds",
            json={"payment_id": payment["payment_id"], "amount_minor": 100, "reason": "dented"},
        ),
        201,
    )
    assert refund["status"] == "succeeded" and refund["payment"]["refunded_minor"] == 100


def test_card_number_in_the_token_is_refused_and_not_echoed(
    storefront: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    response = _pay(storefront, order, {**CARD, "token": "4111 1111 1111 1111"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "card_data_rejected"
    assert "4111 1111 1111 1111" not in response.text and "4111111111111111" not in response.text
    # The random request id may hold any digits; nothing else may carry the card's.
    echoed = {k: v for k, v in response.json().items() if k != "request_id"}
    assert "4111" not in str(echoed) and "1111" not in str(echoed)
    assert _status(admin_m, order) == "pending_payment"
    assert _ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"] == []


def test_declined_card_is_409_and_the_order_still_awaits_payment(
    storefront: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    response = _pay(storefront, order, {**CARD, "token": "tok_sandbox_decline"})
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "card_declined"
    assert _status(admin_m, order) == "pending_payment"
    payments = _ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"]
    assert [(p["payment_id"], p["status"]) for p in payments] == [(problem["payment_id"], "failed")]
    # A retry is a new attempt.
    assert _ok(_pay(storefront, order, CARD), 201)["status"] == "authorized"


def test_provider_timeout_is_202_unknown(
    storefront: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    response = _pay(storefront, order, {**CARD, "token": "tok_sandbox_timeout"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "unknown" and body["operation_status"] == "unknown"


def test_wallet_completes_at_once(
    storefront: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    payment = _ok(_pay(storefront, order, {"method": "alipay", "token": "tok_sandbox_ok"}), 201)
    assert payment["status"] == "captured"
    assert payment["captured_minor"] == order["total_minor"]
    assert payment["fee_minor"] > 0
    assert _status(admin_m, order) == "picking"


def test_payment_replay_with_the_same_key_gives_the_same_body(
    storefront: httpx.Client, admin_m: httpx.Client, order: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": f"pay-{uuid.uuid4().hex}"}
    first = _pay(storefront, order, CARD, **key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = _pay(storefront, order, CARD, **key)
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len(_ok(admin_m.get(f"/api/v1/orders/{order['order_id']}/payments"))["items"]) == 1
    # The same key with another body is refused.
    other = _pay(storefront, order, {**CARD, "card_last4": "0005"}, **key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_void_releases_the_hold(
    storefront: httpx.Client, finance: httpx.Client, order: dict[str, Any]
) -> None:
    payment = _ok(_pay(storefront, order, CARD), 201)
    voided = _ok(finance.post(f"/api/v1/payments/{payment['payment_id']}/void"))
    assert voided["status"] == "voided" and voided["voided_minor"] == order["total_minor"]
    again = finance.post(f"/api/v1/payments/{payment['payment_id']}/capture", json={})
    assert again.status_code == 409, again.text


def test_store_credit_voucher_then_pay_with_it(
    live: LiveServer, keys: dict[str, str], admin_m: httpx.Client, sku_id: str
) -> None:
    email = f"pay-{uuid.uuid4().hex[:10]}@example.com"
    customer = _ok(
        admin_m.post("/api/v1/customers", json={"email": email, "name": "Cora Credit", "region": "NY"}), 201
    )
    cid = customer["customer_id"]
    body = guest_order_body(sku_id, 1)
    del body["guest_email"]
    body["customer_id"] = cid
    placed = _ok(admin_m.post("/api/v1/orders", json=body), 201)
    issued = _ok(
        admin_m.post(
            f"/api/v1/customers/{cid}/store-credit",
            json={"amount_minor": placed["total_minor"], "reason": "goodwill"},
        ),
        201,
    )
    assert issued["balance_minor"] == placed["total_minor"]
    paid = _ok(
        admin_m.post(f"/api/v1/orders/{placed['order_id']}/payments", json={"method": "store_credit"}), 201
    )
    assert paid["status"] == "captured" and "provider_request" not in paid
    credit = _ok(admin_m.get(f"/api/v1/customers/{cid}/store-credit"))
    assert credit["balance_minor"] == 0 and len(credit["movements"]) == 2
    # A storefront without that customer's token does not see it.
    with live.client(keys["storefront"]) as storefront:
        assert storefront.get(f"/api/v1/customers/{cid}/store-credit").status_code == 404
