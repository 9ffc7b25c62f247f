"""Customers over real HTTP: sign-up, sign-in, customer tokens, and keeping customers apart.

A storefront key acts for one customer only together with that customer's
token; another customer's objects answer 404 as if they did not exist.
Staff keys see everything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, guest_order_body
from tests.e2e.live import ok as _ok
from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.domain.access import Actor
from transactional.services import keys as key_service
from transactional.services.store import create_store

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    token: str


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def sign_up(shop: httpx.Client, name: str, password: str | None = PASSWORD) -> tuple[str, dict[str, Any]]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    body: dict[str, Any] = {"email": email, "name": name, "region": "NY"}
    if password is not None:
        body["password"] = password
    return email, _ok(shop.post("/api/v1/customers", json=body), 201)


def sign_in(shop: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return shop.post("/api/v1/auth/customer-token", json={"email": email, "password": password})


@pytest.fixture(scope="module")
def shop(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    """The storefront key with no customer token."""
    with live.client(keys["storefront"]) as client:
        yield client


@pytest.fixture(scope="module")
def sku_id(live: LiveServer, keys: dict[str, str]) -> str:
    """A SKU of this module's own with plenty of stock (the seeded ones are shared by every test)."""
    tag = uuid.uuid4().hex[:8]
    with live.client(keys["admin"]) as admin:
        east = {w["code"]: w["warehouse_id"] for w in _ok(admin.get("/api/v1/warehouses"))["items"]}["EAST"]
        category = _ok(admin.post("/api/v1/categories", json={"name": f"Customers {tag}"}), 201)
        product = _ok(
            admin.post(
                "/api/v1/products",
                json={
                    "name": f"Customer widget {tag}",
                    "category_id": category["category_id"],
                    "tax_class": "standard",
                },
            ),
            201,
        )
        sku = _ok(
            admin.post(
                f"/api/v1/products/{product['product_id']}/skus",
                json={
                    "sku_code": f"CUS-{tag}",
                    "name": "Customer widget",
                    "unit_cost_minor": 900,
                    "price_minor": 2900,
                },
            ),
            201,
        )
        _ok(
            admin.post(
                f"/api/v1/stock/{sku['sku_id']}/{east}/adjustments",
                json={"delta": 100, "reason": "test_customers stock"},
            ),
            201,
        )
    return sku["sku_id"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def alice(shop: httpx.Client) -> Customer:
    email, created = sign_up(shop, "Alice")
    token = _ok(sign_in(shop, email))["token"]
    return Customer(created["customer_id"], email, token)


@pytest.fixture(scope="module")
def bob(shop: httpx.Client) -> Customer:
    email, created = sign_up(shop, "Bob")
    token = _ok(sign_in(shop, email))["token"]
    return Customer(created["customer_id"], email, token)


@pytest.fixture(scope="module")
def as_alice(live: LiveServer, keys: dict[str, str], alice: Customer) -> Iterator[httpx.Client]:
    with live.client(keys["storefront"], **{"X-Customer-Token": alice.token}) as client:
        yield client


@pytest.fixture(scope="module")
def as_bob(live: LiveServer, keys: dict[str, str], bob: Customer) -> Iterator[httpx.Client]:
    with live.client(keys["storefront"], **{"X-Customer-Token": bob.token}) as client:
        yield client


def customer_order(customer_id: str, sku_id: str, quantity: int = 1) -> dict[str, Any]:
    body = guest_order_body(sku_id, quantity)
    del body["guest_email"]
    body["customer_id"] = customer_id
    return body


@pytest.fixture(scope="module")
def alice_order(as_alice: httpx.Client, alice: Customer, sku_id: str) -> dict[str, Any]:
    return _ok(as_alice.post("/api/v1/orders", json=customer_order(alice.customer_id, sku_id)), 201)


@pytest.fixture(scope="module")
def bob_order(as_bob: httpx.Client, bob: Customer, sku_id: str) -> dict[str, Any]:
    return _ok(as_bob.post("/api/v1/orders", json=customer_order(bob.customer_id, sku_id)), 201)


# -- sign-up and sign-in ----------------------------------------------------------------


def test_sign_up_never_returns_the_password(shop: httpx.Client) -> None:
    email, created = sign_up(shop, "Carol")
    assert created["email"] == email
    assert created["has_password"] is True
    assert "password" not in created and "password_hash" not in created
    assert PASSWORD not in str(created)


def test_sign_in_issues_a_token(shop: httpx.Client, alice: Customer) -> None:
    response = sign_in(shop, alice.email.upper())  # e-mail addresses are matched case-insensitively
    signed_in = _ok(response)
    assert signed_in["customer_id"] == alice.customer_id
    assert signed_in["token"].startswith("ctk.")
    assert datetime.fromisoformat(signed_in["expires_at"]) > datetime.now().astimezone()


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "no_password_set"])
def test_bad_credentials_are_401(shop: httpx.Client, alice: Customer, case: str) -> None:
    if case == "wrong_password":
        response = sign_in(shop, alice.email, "not the password")
    elif case == "unknown_email":
        response = sign_in(shop, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    else:
        email, _ = sign_up(shop, "Dave", password=None)
        response = sign_in(shop, email, "anything at all")
    body = _problem(response, 401, "invalid_credentials")
    # The same answer whatever went wrong, so e-mail addresses cannot be probed.
    assert body["detail"] == "e-mail or password is wrong"
    assert "token" not in body


def test_short_password_is_rejected(shop: httpx.Client) -> None:
    response = shop.post(
        "/api/v1/customers",
        json={
            "email": f"e-{uuid.uuid4().hex[:8]}@example.com",
            "name": "Eve",
            "region": "NY",
            "password": "short",
        },
    )
    _problem(response, 422, "validation_error")


def test_only_storefront_keys_sign_in(live: LiveServer, keys: dict[str, str], alice: Customer) -> None:
    with live.client(keys["operator"]) as operator:
        response = operator.post(
            "/api/v1/auth/customer-token", json={"email": alice.email, "password": PASSWORD}
        )
    _problem(response, 403, "role_forbidden")


# -- a customer sees their own things only ---------------------------------------------------


def test_customer_places_lists_and_reads_own_orders(
    as_alice: httpx.Client,
    alice: Customer,
    alice_order: dict[str, Any],
    bob_order: dict[str, Any],
    sku_id: str,
) -> None:
    assert alice_order["customer_id"] == alice.customer_id
    assert alice_order["guest_email"] is None

    second = _ok(as_alice.post("/api/v1/orders", json=customer_order(alice.customer_id, sku_id, 2)), 201)
    listed = _ok(as_alice.get("/api/v1/orders", params={"limit": 200}))["items"]
    assert {o["order_id"] for o in listed} == {alice_order["order_id"], second["order_id"]}
    assert all(o["customer_id"] == alice.customer_id for o in listed)
    assert bob_order["order_id"] not in {o["order_id"] for o in listed}

    # Asking for Bob's orders explicitly still lists Alice's only.
    filtered = _ok(as_alice.get("/api/v1/orders", params={"customer_id": bob_order["customer_id"]}))["items"]
    assert {o["order_id"] for o in filtered} == {alice_order["order_id"], second["order_id"]}

    got = _ok(as_alice.get(f"/api/v1/orders/{alice_order['order_id']}"))
    assert got["order_id"] == alice_order["order_id"]
    assert got["status_label"] == "Awaiting payment"
    assert "access_token_sha256" not in got

    me = _ok(as_alice.get(f"/api/v1/customers/{alice.customer_id}"))
    assert me["customer_id"] == alice.customer_id and me["email"] == alice.email
    assert "password_hash" not in me


def test_another_customer_gets_404_on_everything_of_alice(
    as_bob: httpx.Client,
    alice: Customer,
    alice_order: dict[str, Any],
    sku_id: str,
    live: LiveServer,
    keys: dict[str, str],
) -> None:
    order_id = alice_order["order_id"]
    _problem(as_bob.get(f"/api/v1/orders/{order_id}"), 404, "order_not_found")
    _problem(as_bob.get(f"/api/v1/customers/{alice.customer_id}"), 404, "customer_not_found")
    _problem(
        as_bob.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "not mine"}), 404, "order_not_found"
    )
    _problem(
        as_bob.patch(f"/api/v1/orders/{order_id}", json={"lines": [{"sku_id": sku_id, "quantity": 5}]}),
        404,
        "order_not_found",
    )
    _problem(
        as_bob.post(
            f"/api/v1/customers/{alice.customer_id}/addresses",
            json={"name": "Bob", "line1": "1 Main St", "city": "Albany", "region": "NY", "country": "US"},
        ),
        404,
        "customer_not_found",
    )
    # Placing an order in Alice's name with Bob's token is refused outright.
    _problem(
        as_bob.post("/api/v1/orders", json=customer_order(alice.customer_id, sku_id)),
        403,
        "customer_mismatch",
    )
    # None of it touched Alice's order.
    with live.client(keys["operator"]) as operator:
        seen = _ok(operator.get(f"/api/v1/orders/{order_id}"))
    assert seen["status"] == "pending_payment"
    assert seen["version"] == alice_order["version"]
    assert [ln["quantity"] for ln in seen["lines"]] == [ln["quantity"] for ln in alice_order["lines"]]


def test_customer_saves_an_address_and_orders_to_it(
    as_alice: httpx.Client, as_bob: httpx.Client, alice: Customer, bob: Customer, sku_id: str
) -> None:
    address = _ok(
        as_alice.post(
            f"/api/v1/customers/{alice.customer_id}/addresses",
            json={"name": "Alice", "line1": "7 Oak Ave", "city": "Buffalo", "region": "NY", "country": "us"},
        ),
        201,
    )
    assert address["customer_id"] == alice.customer_id and address["country"] == "US"
    body = customer_order(alice.customer_id, sku_id)
    del body["shipping_address"]
    body["address_id"] = address["address_id"]
    order = _ok(as_alice.post("/api/v1/orders", json=body), 201)
    assert order["ship_line1"] == "7 Oak Ave" and order["ship_city"] == "Buffalo"
    # Bob cannot ship to Alice's saved address.
    stolen = customer_order(bob.customer_id, sku_id)
    del stolen["shipping_address"]
    stolen["address_id"] = address["address_id"]
    _problem(as_bob.post("/api/v1/orders", json=stolen), 404, "address_not_found")


def test_storefront_without_token_cannot_list_or_act_for_a_customer(
    shop: httpx.Client, alice: Customer, alice_order: dict[str, Any], sku_id: str
) -> None:
    _problem(shop.get("/api/v1/orders"), 403, "customer_token_required")
    _problem(shop.get(f"/api/v1/orders/{alice_order['order_id']}"), 404, "order_not_found")
    _problem(shop.get(f"/api/v1/customers/{alice.customer_id}"), 404, "customer_not_found")
    _problem(
        shop.post("/api/v1/orders", json=customer_order(alice.customer_id, sku_id)),
        403,
        "customer_token_required",
    )


def test_staff_see_every_customer_and_order(
    live: LiveServer,
    keys: dict[str, str],
    alice: Customer,
    bob: Customer,
    alice_order: dict[str, Any],
    bob_order: dict[str, Any],
) -> None:
    for role in ("operator", "finance", "admin", "pipeline"):
        with live.client(keys[role]) as staff:
            for customer, order in ((alice, alice_order), (bob, bob_order)):
                got = _ok(staff.get(f"/api/v1/orders/{order['order_id']}"))
                assert got["customer_id"] == customer.customer_id
                listed = _ok(staff.get("/api/v1/orders", params={"customer_id": customer.customer_id}))[
                    "items"
                ]
                assert order["order_id"] in {o["order_id"] for o in listed}
                assert {o["customer_id"] for o in listed} == {customer.customer_id}
                profile = staff.get(f"/api/v1/customers/{customer.customer_id}")
                if role == "pipeline":
                    _problem(profile, 403, "role_forbidden")
                else:
                    assert _ok(profile)["email"] == customer.email


def test_customer_tokens_are_refused_with_staff_keys(
    live: LiveServer, keys: dict[str, str], alice: Customer
) -> None:
    with live.client(keys["operator"], **{"X-Customer-Token": alice.token}) as client:
        _problem(client.get("/api/v1/orders"), 422, "customer_token_not_allowed")


# -- forged and expired tokens -----------------------------------------------------------------


def _forgeries(alice: Customer, bob: Customer) -> dict[str, str]:
    prefix, customer_id, expires, sig = alice.token.split(".")
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    return {
        "garbage": "not-a-token",
        "wrong_prefix": f"xyz.{customer_id}.{expires}.{sig}",
        "flipped_signature": f"{prefix}.{customer_id}.{expires}.{flipped}",
        "other_customer": f"{prefix}.{bob.customer_id}.{expires}.{sig}",
        "later_expiry": f"{prefix}.{customer_id}.{int(expires) + 86400}.{sig}",
        "no_signature": f"{prefix}.{customer_id}.{expires}",
        "non_numeric_expiry": f"{prefix}.{customer_id}.soon.{sig}",
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "garbage",
        "wrong_prefix",
        "flipped_signature",
        "other_customer",
        "later_expiry",
        "no_signature",
        "non_numeric_expiry",
    ],
)
def test_forged_token_is_401(
    live: LiveServer,
    keys: dict[str, str],
    alice: Customer,
    bob: Customer,
    alice_order: dict[str, Any],
    forgery: str,
) -> None:
    token = _forgeries(alice, bob)[forgery]
    with live.client(keys["storefront"], **{"X-Customer-Token": token}) as client:
        _problem(client.get("/api/v1/orders"), 401, "invalid_customer_token")
        _problem(client.get(f"/api/v1/orders/{alice_order['order_id']}"), 401, "invalid_customer_token")
        _problem(client.get(f"/api/v1/customers/{bob.customer_id}"), 401, "invalid_customer_token")


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A second, minimal store whose customer tokens live one second."""
    data_dir: Path = tmp_path_factory.mktemp("short-token-store")
    runtime = open_runtime(Settings(data_dir=data_dir), holder="test_customers setup")
    try:
        admin = Actor(role="admin")
        runtime.writer.run(
            lambda uow: create_store(uow, name="Short", currency="USD", timezone="UTC", tax_mode="exclusive"),
            admin,
        )
        created = runtime.writer.run(
            lambda uow: key_service.create_key(uow, key_service.CreateKey(role="storefront", name="shop")),
            admin,
        ).body
    finally:
        runtime.close()
    server = LiveServer(data_dir, free_port(), env={"EMPORIUM_CUSTOMER_TOKEN_TTL_SECONDS": "1"}).start()
    try:
        yield server, created["secret"]
    finally:
        server.terminate()


def test_expired_token_is_401(
    short_lived: tuple[LiveServer, str], live: LiveServer, keys: dict[str, str]
) -> None:
    server, storefront_key = short_lived
    with server.client(storefront_key) as shop:
        email, created = sign_up(shop, "Fay")
        signed_in = _ok(sign_in(shop, email))
        token = signed_in["token"]
        with server.client(storefront_key, **{"X-Customer-Token": token}) as as_fay:
            fresh = as_fay.get(f"/api/v1/customers/{created['customer_id']}")
            expires_at = datetime.fromisoformat(signed_in["expires_at"]).timestamp()
            if time.time() < expires_at:  # the token may outlive the sign-up only by under a second
                assert fresh.status_code == 200, fresh.text
            time.sleep(max(0.0, expires_at - time.time()) + 0.2)
            body = _problem(as_fay.get("/api/v1/orders"), 401, "customer_token_expired")
            assert "sign in again" in body["detail"]
        # Signing in again gives a working token.
        renewed = _ok(sign_in(shop, email))["token"]
        with server.client(storefront_key, **{"X-Customer-Token": renewed}) as as_fay:
            assert as_fay.get("/api/v1/orders").status_code == 200

    # A token signed by another store's key means nothing here.
    with live.client(keys["storefront"], **{"X-Customer-Token": renewed}) as elsewhere:
        _problem(elsewhere.get("/api/v1/orders"), 401, "invalid_customer_token")
