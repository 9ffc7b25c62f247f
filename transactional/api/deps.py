"""Dependencies shared by the routes: who is calling, running a write command, reading."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import duckdb
import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from transactional.api import customer_tokens
from transactional.api.permissions import PERMISSIONS
from transactional.bootstrap import Runtime
from transactional.domain.access import Actor, hash_secret
from transactional.domain.errors import Forbidden, Invalid, NotFound, Unauthorized
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, IdempotencyClaim, Outcome


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    role: str
    operation: str
    customer_id: str | None = None
    order_token_sha256: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(
            role=self.role,
            key_id=self.key_id,
            customer_id=self.customer_id,
            order_token_sha256=self.order_token_sha256,
        )

    @property
    def is_storefront(self) -> bool:
        return self.role == "storefront"

    def require_customer(self, customer_id: str) -> None:
        """Storefront keys see one customer only, the one whose token they carry (404 otherwise)."""
        if self.is_storefront and self.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} does not exist", code="customer_not_found")

    def can_see_order(self, order: dict[str, Any]) -> bool:
        if not self.is_storefront:
            return True
        if self.customer_id is not None and order.get("customer_id") == self.customer_id:
            return True
        return (
            self.order_token_sha256 is not None
            and order.get("access_token_sha256") == self.order_token_sha256
        )


async def authorize(request: Request) -> Caller:
    """Resolve the Bearer key, check the role × endpoint table, and attach customer/order tokens."""
    runtime = get_runtime(request)
    operation = request.scope["route"].operation_id
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", code="missing_api_key")
    rows = runtime.writer.state.lookup("api_keys", "secret_sha256", hash_secret(secret.strip()))
    if not rows:
        raise Unauthorized("unknown API key", code="invalid_api_key")
    key = rows[0]
    if key["revoked_at"] is not None:
        raise Unauthorized("this API key has been revoked", code="api_key_revoked")
    if key["role"] not in PERMISSIONS[operation]:
        raise Forbidden(
            f"role {key['role']} may not call {operation}",
            code="role_forbidden",
            allowed_roles=sorted(PERMISSIONS[operation]),
        )
    customer_id = None
    token = request.headers.get("x-customer-token")
    if token:
        if key["role"] != "storefront":
            raise Invalid(
                "customer tokens are only accepted with storefront keys", code="customer_token_not_allowed"
            )
        secret_row = runtime.writer.state.get("server_secrets", ("customer_token_key",))
        if secret_row is None:
            raise Unauthorized("the store has no customer token key yet", code="invalid_customer_token")
        customer_id = customer_tokens.verify(token, runtime.clock.now(), secret_row["value"])
    order_token = request.headers.get("x-order-token")
    return Caller(
        key_id=key["key_id"],
        role=key["role"],
        operation=operation,
        customer_id=customer_id,
        order_token_sha256=hashlib.sha256(order_token.encode()).hexdigest() if order_token else None,
    )


CallerDep = Annotated[Caller, Depends(authorize)]


def reader(request: Request) -> Iterator[duckdb.DuckDBPyConnection]:
    with get_runtime(request).reader() as cur:
        yield cur


ReaderDep = Annotated[duckdb.DuckDBPyConnection, Depends(reader)]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, default=str), status_code=status, media_type="application/json", headers=headers
    )


async def submit(
    request: Request,
    caller: Caller,
    fn: Callable[[UnitOfWork], Any],
    *,
    status: int = 200,
    idempotent: bool = True,
) -> Outcome:
    """Queue a write command to the serial writer and return its Outcome once its batch has committed.

    With ``idempotent`` (the default) an Idempotency-Key header makes the command
    replayable: scoped per API key, method and path; the same key with another
    body is a 409. Domain errors are raised (and answered as problems).
    """
    runtime = get_runtime(request)
    command = Command(
        fn=fn,
        actor=caller.actor,
        request_id=request_id(request),
        idempotency=await idempotency_claim(request, caller) if idempotent else None,
        success_status=status,
    )
    return await asyncio.wrap_future(runtime.writer.submit(command))


def request_id(request: Request) -> str | None:
    """The id the middleware gave this request (logged, and stored with what it changes)."""
    return request.scope.get("state", {}).get("request_id")  # type: ignore[no-any-return]


async def idempotency_claim(request: Request, caller: Caller) -> IdempotencyClaim | None:
    """The request's Idempotency-Key as a claim on its API key, method, path and body (None without one)."""
    idem_key = request.headers.get("idempotency-key")
    if idem_key is None:
        return None
    if not 1 <= len(idem_key) <= 255:
        raise Invalid("Idempotency-Key must be 1 to 255 characters", code="invalid_idempotency_key")
    body = await request.body()
    return IdempotencyClaim.of(caller.key_id, f"{request.method} {request.url.path}", idem_key, body)


async def execute(
    request: Request,
    caller: Caller,
    fn: Callable[[UnitOfWork], Any],
    *,
    status: int = 200,
) -> Response:
    """Queue a write command to the serial writer and answer once its batch has committed.

    An Idempotency-Key header makes the command replayable: scoped per API key,
    method and path; the same key with another body is a 409.
    """
    outcome = await submit(request, caller, fn, status=status)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return json_response(outcome.body, outcome.status, headers)
