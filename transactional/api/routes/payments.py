"""Payments, captures, voids, refunds, store credit and ledger balances (the payment station).

A call that reaches the provider is two writer commands with the provider called
between them, outside the writer and off the event loop (services/payments.py):
``begin_*`` (guarded by the request's Idempotency-Key), the provider call in a
worker thread, then ``record_*``. The answer reflects the outcome:

- success: 201 (a new payment or refund) or 200 (a capture or void);
- the provider timed out: 202 with status ``unknown``; the reconciler settles it;
- the provider declined or failed: 409 problem with the provider's code
  (``card_declined``, ``payment_declined``, ``processing_error``, ...) and the
  ids of the attempt, which stays recorded as failed.

A replay with the same Idempotency-Key gets the same attempt back (the provider
is asked again with the same attempt id, its idempotency key) and the same answer.
Card data never reaches a response: tokens are hidden, a card number is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from transactional.api.deps import (
    Caller,
    CallerDep,
    ReaderDep,
    get_runtime,
    json_response,
    request_id,
    submit,
)
from transactional.api.problems import problem
from transactional.domain.errors import NotFound
from transactional.providers.payments import PaymentProvider
from transactional.services import payment_flow
from transactional.services import payments as svc
from transactional.storage.reads import admin as admin_reads
from transactional.storage.reads import catalogue as customer_reads
from transactional.storage.reads import orders as order_reads
from transactional.storage.reads import payments as reads
from transactional.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["payments"])


class CapturePayment(BaseModel):
    """Capture part of a card hold, or (without an amount) all that is still held."""

    model_config = ConfigDict(extra="forbid")
    amount_minor: svc.Amount | None = None


class StoreCreditVoucher(BaseModel):
    """An admin's voucher for the customer in the path."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount_minor: svc.Amount
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def get_provider(request: Request) -> PaymentProvider:
    return request.app.state.payment_provider  # type: ignore[no-any-return]


def _result_status(kind: str, body: dict[str, Any]) -> str:
    """succeeded, unknown or failed: the operation's state as the record command left it."""
    state = body.get("status") if kind == "refund" else body.get("operation_status")
    if state in ("unknown", "pending"):
        return "unknown"
    if state == "failed":
        return "failed"
    return "succeeded"


async def _two_phase(
    request: Request, caller: Caller, begin: Callable[[UnitOfWork], dict[str, Any]], *, status: int
) -> Response:
    """begin_* (idempotent) → provider in a worker thread → record_*; answer after both."""
    first = await submit(request, caller, begin, status=status)
    headers = {"Idempotent-Replayed": "true"} if first.replayed else None
    req = first.body.get("provider_request")
    if req is None:  # completed without a provider (store credit)
        body = {k: v for k, v in first.body.items() if k != "provider_request"}
        return json_response(body, first.status, headers)
    provider_request = payment_flow.provider_request(req)
    outcome = await run_in_threadpool(payment_flow.call_provider, get_provider(request), provider_request)
    record = payment_flow.RECORD[req["kind"]]
    attempt_id = req["attempt_id"]
    second = await submit(request, caller, lambda uow: record(uow, attempt_id, outcome), idempotent=False)
    body = {k: v for k, v in second.body.items() if k != "follow_up"}
    if second.body.get("follow_up"):
        # Money secured for an order that expired meanwhile goes straight back.
        await run_in_threadpool(
            payment_flow.send_all,
            get_runtime(request).writer,
            get_provider(request),
            second.body["follow_up"],
            caller.actor,
            request_id=request_id(request),
        )
    result = _result_status(req["kind"], body)
    if result == "unknown":
        return json_response(body, 202, headers)
    if result == "failed":
        code = outcome.error_code or body.get("failure_code") or "payment_failed"
        ids = {k: body[k] for k in ("payment_id", "refund_id", "order_id", "operation_id") if k in body}
        response = problem(
            409,
            code,
            f"the payment provider refused the {req['kind']} ({code}); the attempt is recorded as failed",
            request,
            **ids,
        )
        if headers:
            response.headers.update(headers)
        return response
    return json_response(body, first.status, headers)


# -- payments ------------------------------------------------------------------------


@router.post("/orders/{order_id}/payments", operation_id="payments.create", status_code=201)
async def create_payment(
    order_id: str, request: Request, caller: CallerDep, body: svc.AuthorizePayment
) -> Response:
    """Pay an order awaiting payment with a provider token (card: plus brand and last 4) or store credit.

    201 once the payment is secured (the order is paid; a bank transfer awaits funds), 202 if the
    provider's answer is unknown (the reconciler settles it), 409 with the provider's code if it declined.
    """
    provider = get_provider(request)
    return await _two_phase(
        request,
        caller,
        lambda uow: svc.begin_authorization(uow, order_id, body, provider=provider.name),
        status=201,
    )


@router.get("/orders/{order_id}/payments", operation_id="payments.list")
def list_payments(order_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """Every payment attempt of an order with its provider operations and refunds."""
    access = order_reads.order_access(cur, order_id)
    if access is None or not caller.can_see_order(access):
        raise NotFound(f"order {order_id} does not exist", code="order_not_found")
    return json_response({"order_id": order_id, "items": reads.payments_of_order(cur, order_id)})


@router.post("/payments/{payment_id}/capture", operation_id="payments.capture")
async def capture_payment(
    payment_id: str, request: Request, caller: CallerDep, body: CapturePayment
) -> Response:
    """Capture a card hold, partially or (without an amount) all that is left; captures recognize revenue."""
    amount = body.amount_minor
    return await _two_phase(
        request, caller, lambda uow: svc.begin_capture(uow, payment_id, amount), status=200
    )


@router.post("/payments/{payment_id}/void", operation_id="payments.void")
async def void_payment(payment_id: str, request: Request, caller: CallerDep) -> Response:
    """Release the uncaptured remainder of a card hold."""
    return await _two_phase(request, caller, lambda uow: svc.begin_void(uow, payment_id), status=200)


@router.post("/refunds", operation_id="refunds.create", status_code=201)
async def create_refund(request: Request, caller: CallerDep, body: svc.RefundPayment) -> Response:
    """Refund an amount of a payment (or an order's refundable payment) to its method or to store credit."""
    return await _two_phase(request, caller, lambda uow: svc.begin_refund(uow, body), status=201)


# -- store credit and the ledger ---------------------------------------------------------


@router.post("/customers/{customer_id}/store-credit", operation_id="store_credit.issue", status_code=201)
async def issue_store_credit(
    customer_id: str, request: Request, caller: CallerDep, body: StoreCreditVoucher
) -> Response:
    """Issue store credit to a customer (an admin's voucher, with a reason)."""
    command = svc.IssueStoreCredit(
        customer_id=customer_id, amount_minor=body.amount_minor, reason=body.reason
    )
    outcome = await submit(request, caller, lambda uow: svc.issue_store_credit(uow, command), status=201)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return json_response(outcome.body, outcome.status, headers)


@router.get("/customers/{customer_id}/store-credit", operation_id="store_credit.get")
def get_store_credit(customer_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """A customer's store-credit balance and movements (a storefront sees only its signed-in customer)."""
    caller.require_customer(customer_id)
    if customer_reads.get_customer(cur, customer_id) is None:
        raise NotFound(f"customer {customer_id} does not exist", code="customer_not_found")
    return json_response(reads.store_credit(cur, customer_id))


@router.get("/ledger/balances", operation_id="ledger.balances")
def ledger_balances(
    cur: ReaderDep, caller: CallerDep, day_from: date | None = None, day_to: date | None = None
) -> Response:
    """Debits, credits and balance (debit − credit) per store-local day, account and provider, with
    per-account totals over the range."""
    store = admin_reads.get_store(cur)
    timezone = store["timezone"] if store is not None else "UTC"
    items = reads.ledger_balances(cur, timezone, day_from=day_from, day_to=day_to)
    totals: dict[str, int] = {}
    for item in items:
        totals[item["account"]] = totals.get(item["account"], 0) + item["balance_minor"]
    return json_response(
        {"timezone": timezone, "day_from": day_from, "day_to": day_to, "items": items, "totals": totals}
    )
