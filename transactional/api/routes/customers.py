"""Customers: sign-up, sign-in (customer tokens), profiles and addresses."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from transactional.api import customer_tokens
from transactional.api.deps import CallerDep, ReaderDep, RuntimeDep, execute, json_response
from transactional.domain.errors import NotFound, Unauthorized
from transactional.services import customers
from transactional.storage.reads import catalogue as reads

router = APIRouter(prefix="/api/v1", tags=["customers"])
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both failures take as long.
_DUMMY_HASH = _hasher.hash("not a real password")
Password = Annotated[str, Field(min_length=8, max_length=128)]


class SignUp(customers.RegisterCustomer):
    password: Password | None = None


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=128)]


@router.post("/customers", operation_id="customers.create", status_code=201)
async def register(request: Request, caller: CallerDep, body: SignUp) -> Response:
    """Register a customer; with a password they can sign in for a customer token."""
    # Argon2 is deliberately slow: hash here, in a worker thread, never in the writer.
    password_hash = await run_in_threadpool(_hasher.hash, body.password) if body.password else None
    command = customers.RegisterCustomer(**body.model_dump(exclude={"password"}))
    return await execute(
        request,
        caller,
        lambda uow: customers.register_customer(uow, command, password_hash=password_hash),
        status=201,
    )


@router.post("/auth/customer-token", operation_id="auth.customer_token")
async def sign_in(body: SignIn, caller: CallerDep, runtime: RuntimeDep) -> Response:
    """Exchange a customer's e-mail and password for a short-lived customer token."""
    with runtime.reader() as cur:
        credentials = reads.customer_credentials(cur, body.email)
    stored = (credentials or {}).get("password_hash") or _DUMMY_HASH

    def check() -> bool:
        try:
            return _hasher.verify(stored, body.password)
        except (VerificationError, InvalidHashError):
            return False

    if not await run_in_threadpool(check) or credentials is None or not credentials["password_hash"]:
        raise Unauthorized("e-mail or password is wrong", code="invalid_credentials")
    secret = runtime.writer.state.get("server_secrets", ("customer_token_key",))
    assert secret is not None
    expires_at = runtime.clock.now() + timedelta(seconds=runtime.settings.customer_token_ttl_seconds)
    token = customer_tokens.issue(credentials["customer_id"], expires_at, secret["value"])
    return json_response(
        {"customer_id": credentials["customer_id"], "token": token, "expires_at": expires_at}
    )


@router.get("/customers/{customer_id}", operation_id="customers.get")
def get_customer(customer_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """A customer's profile and addresses (a storefront sees only its signed-in customer)."""
    caller.require_customer(customer_id)
    row = reads.get_customer(cur, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist", code="customer_not_found")
    return json_response(row)


@router.post("/customers/{customer_id}/addresses", operation_id="customers.addresses.create", status_code=201)
async def add_address(
    customer_id: str, request: Request, caller: CallerDep, body: customers.AddAddress
) -> Response:
    """Save an address for the customer."""
    caller.require_customer(customer_id)
    return await execute(
        request, caller, lambda uow: customers.add_address(uow, customer_id, body), status=201
    )
