"""The role × endpoint table, cell by cell, against the real server; and API-key authentication.

Every (operation, role) pair of ``PERMISSIONS`` is one test: the method and
path come from the live server's OpenAPI document, path parameters are a
dummy id that matches nothing and bodies are ``{}``, so an allowed call ends
in a 404/422 (or a harmless read) and a refused one in 403 ``role_forbidden``.
Nothing here touches an object that exists, except keys this module creates.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer
from transactional.api.permissions import KEYLESS, PERMISSIONS, ROLES

PROBE_ID = "zzz_missing"
UNAUTHENTICATED = KEYLESS
BODY_METHODS = {"post", "put", "patch"}
# POSTs that change no object of the store (a lake snapshot writes Parquet files only):
# an allowed call succeeds (or finds another snapshot running).
WRITES_NO_STORE_OBJECT = {"lake.snapshot"}
# A cheap, harmless operation to try keys against.
PROBE_PATH = "/api/v1/store"

CELLS = [(op, role) for op in PERMISSIONS for role in ROLES]


@pytest.fixture(scope="module")
def openapi(live: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{live.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def operations(openapi: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path, operation object) as the live server documents them."""
    ops: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            op_id = op["operationId"]
            assert op_id not in ops, f"operationId {op_id} is used twice"
            ops[op_id] = (method, path, op)
    return ops


@pytest.fixture(scope="module")
def clients(live: LiveServer, keys: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    made = {role: live.client(keys[role]) for role in ROLES}
    yield made
    for client in made.values():
        client.close()


def _call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    url = re.sub(r"\{[^}/]+\}", PROBE_ID, path)
    if method in BODY_METHODS:
        return client.request(method.upper(), url, json={})
    return client.request(method.upper(), url)


def _is_role_forbidden(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    return response.json().get("code") == "role_forbidden"


@pytest.mark.parametrize(("operation", "role"), CELLS, ids=[f"{op}-{role}" for op, role in CELLS])
def test_role_cell(
    operation: str,
    role: str,
    operations: dict[str, tuple[str, str, dict[str, Any]]],
    clients: dict[str, httpx.Client],
) -> None:
    assert operation in operations, f"{operation} is in PERMISSIONS but not served"
    method, path, _ = operations[operation]
    response = _call(clients[role], method, path)
    if role in PERMISSIONS[operation]:
        assert not _is_role_forbidden(response), f"{role} should be allowed {operation}: {response.text}"
        # The dummy ids and empty bodies never reach a real object: nothing may be created or changed.
        if operation in WRITES_NO_STORE_OBJECT:
            assert response.status_code in {201, 409}, response.text
        elif method != "get":
            assert response.status_code in {400, 403, 404, 409, 422}, response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == "role_forbidden"
        assert body["allowed_roles"] == sorted(PERMISSIONS[operation])
        assert operation in body["detail"]


def test_every_served_operation_is_in_the_table_and_vice_versa(
    operations: dict[str, tuple[str, str, dict[str, Any]]],
) -> None:
    served = set(operations) - UNAUTHENTICATED
    assert served == set(PERMISSIONS), {
        "served but not in PERMISSIONS": sorted(served - set(PERMISSIONS)),
        "in PERMISSIONS but not served": sorted(set(PERMISSIONS) - served),
    }


def test_openapi_documents_the_roles_of_every_operation(
    openapi: dict[str, Any], operations: dict[str, tuple[str, str, dict[str, Any]]]
) -> None:
    for op_id, (_, _, op) in operations.items():
        if op_id in UNAUTHENTICATED:
            assert "x-roles" not in op
            continue
        assert op["x-roles"] == sorted(PERMISSIONS[op_id]), op_id
        assert op["security"] == [{"apiKey": []}], op_id
        assert "Roles: " + ", ".join(sorted(PERMISSIONS[op_id])) in op["description"], op_id
    assert openapi["components"]["securitySchemes"]["apiKey"] == {"type": "http", "scheme": "bearer"}
    # The human-readable table in the description has one row per operation.
    for op_id in PERMISSIONS:
        assert f"| `{op_id}` |" in openapi["info"]["description"]


def test_health_and_ready_need_no_key(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/health").status_code == 200
    assert httpx.get(f"{live.url}/ready").status_code == 200


# -- authentication ---------------------------------------------------------------


def _assert_unauthorized(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "emp_ad_no_scheme"},
        {"Authorization": "Basic dXNlcjpwdw=="},
    ],
    ids=["no-header", "empty-bearer", "no-scheme", "basic-scheme"],
)
def test_missing_key_is_401(live: LiveServer, headers: dict[str, str]) -> None:
    response = httpx.get(f"{live.url}{PROBE_PATH}", headers=headers)
    _assert_unauthorized(response, "missing_api_key")


def test_missing_key_on_a_write_is_401_and_creates_nothing(live: LiveServer, admin: httpx.Client) -> None:
    name = f"nokey-{uuid.uuid4().hex[:8]}"
    response = httpx.post(f"{live.url}/api/v1/categories", json={"name": name})
    _assert_unauthorized(response, "missing_api_key")
    categories = admin.get("/api/v1/categories", params={"limit": 200}).json()["items"]
    assert name not in {c["name"] for c in categories}


def test_unknown_key_is_401(live: LiveServer) -> None:
    response = httpx.get(f"{live.url}{PROBE_PATH}", headers={"Authorization": "Bearer emp_ad_not-a-real-key"})
    _assert_unauthorized(response, "invalid_api_key")


def _create_key(admin: httpx.Client, role: str) -> dict[str, Any]:
    response = admin.post("/api/v1/keys", json={"role": role, "name": f"test_roles {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["role"] == role and created["secret"]
    return created  # type: ignore[no-any-return]


def _with_key(live: LiveServer, secret: str) -> httpx.Response:
    return httpx.get(f"{live.url}{PROBE_PATH}", headers={"Authorization": f"Bearer {secret}"})


def test_revoked_key_is_401(live: LiveServer, admin: httpx.Client) -> None:
    created = _create_key(admin, "operator")
    assert _with_key(live, created["secret"]).status_code == 200

    revoked = admin.post(f"/api/v1/keys/{created['key_id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert "secret" not in revoked.json()

    _assert_unauthorized(_with_key(live, created["secret"]), "api_key_revoked")
    again = admin.post(f"/api/v1/keys/{created['key_id']}/revoke")
    assert again.status_code == 409 and again.json()["code"] == "api_key_revoked"


def test_rotated_key_old_secret_fails_new_secret_works(live: LiveServer, admin: httpx.Client) -> None:
    created = _create_key(admin, "finance")
    rotated = admin.post(f"/api/v1/keys/{created['key_id']}/rotate")
    assert rotated.status_code == 201, rotated.text
    fresh = rotated.json()
    assert fresh["key_id"] != created["key_id"]
    assert fresh["role"] == "finance"
    assert fresh["secret"] != created["secret"]

    _assert_unauthorized(_with_key(live, created["secret"]), "api_key_revoked")
    assert _with_key(live, fresh["secret"]).status_code == 200
    # The new secret keeps the old key's role, no more: finance may not adjust stock.
    forbidden = httpx.post(
        f"{live.url}/api/v1/stock/{PROBE_ID}/{PROBE_ID}/adjustments",
        json={"delta": 1, "reason": "x"},
        headers={"Authorization": f"Bearer {fresh['secret']}"},
    )
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "role_forbidden"

    listed = {k["key_id"]: k for k in _all_keys(admin)}
    assert listed[created["key_id"]]["revoked_at"] is not None
    assert listed[created["key_id"]]["replaced_by"] == fresh["key_id"]
    assert listed[fresh["key_id"]]["revoked_at"] is None
    assert all("secret" not in k and "secret_sha256" not in k for k in listed.values())


def _all_keys(admin: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if after:
            params["after"] = after
        page = admin.get("/api/v1/keys", params=params).json()
        items += page["items"]
        after = page.get("next_after")
        if not after:
            return items
