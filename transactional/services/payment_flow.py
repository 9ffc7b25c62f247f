"""The two-phase payment flow against a Writer, with the provider called outside it.

Each function runs writer command 1 (``begin_*``: the attempt committed as
pending), calls the provider from the caller's thread, then writer command 2
(``record_*``: the outcome). A provider call that raises is taken as a
timeout: the operation becomes ``unknown`` and ``reconcile_unknown`` asks the
provider again later (DESIGN.md, "The write path"). With the writer thread
started commands go through ``writer.submit``; otherwise ``writer.run`` runs
them in this thread (offline commands, tests).

Idempotency: the claim (if any) guards command 1, so a repeated request gets
the same attempt back and sends the provider the same attempt id (its
idempotency key); recording an operation that is already settled is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from transactional.domain.access import SYSTEM, Actor
from transactional.providers.payments import (
    AuthorizeRequest,
    CaptureRequest,
    OutcomeStatus,
    PaymentProvider,
    PaymentSource,
    ProviderOutcome,
    ProviderRequest,
    RefundRequest,
    VoidRequest,
)
from transactional.services import payments as svc
from transactional.services import shipping
from transactional.services.orders import CancelOrder
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, IdempotencyClaim, Outcome, Writer

log = logging.getLogger("emporium.payments")

RECORD: Mapping[str, Callable[[UnitOfWork, str, ProviderOutcome], dict[str, Any]]] = {
    "authorize": svc.record_authorization,
    "capture": svc.record_capture,
    "void": svc.record_void,
    "refund": svc.record_refund,
}


def execute(
    writer: Writer,
    fn: Callable[[UnitOfWork], Any],
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    """One writer command: submitted to the writer thread if it runs, else run here."""
    if writer.is_running:
        command = Command(fn=fn, actor=actor, request_id=request_id, idempotency=idempotency)
        return writer.submit(command).result()
    return writer.run(fn, actor, request_id=request_id, idempotency=idempotency)


def provider_request(req: Mapping[str, Any]) -> ProviderRequest:
    """The provider request a ``begin_*`` service (or the reconciler's work list) describes."""
    kind = req["kind"]
    common = (req["attempt_id"], req["method"], req["currency"], req["amount_minor"])
    if kind in ("authorize", "funds"):
        source = PaymentSource(req["token"] or "", req.get("card_brand"), req.get("card_last4"))
        return AuthorizeRequest(*common, source=source)
    if kind == "capture":
        return CaptureRequest(
            req["attempt_id"],
            req["provider_ref"],
            req["method"],
            req["currency"],
            req["amount_minor"],
            req.get("captured_before_minor", 0),
        )
    if kind == "void":
        return VoidRequest(
            req["attempt_id"], req["provider_ref"], req["method"], req["currency"], req["amount_minor"]
        )
    if kind == "refund":
        return RefundRequest(
            req["attempt_id"], req["provider_ref"], req["method"], req["currency"], req["amount_minor"]
        )
    raise ValueError(f"unknown provider request kind {kind!r}")


def call_provider(
    provider: PaymentProvider, request: ProviderRequest, *, lookup: bool = False
) -> ProviderOutcome:
    """Call the provider; any exception is a timeout: the call may have happened, so ask again later."""
    try:
        if lookup:
            return provider.lookup(request)
        if isinstance(request, AuthorizeRequest):
            return provider.authorize(request)
        if isinstance(request, CaptureRequest):
            return provider.capture(request)
        if isinstance(request, VoidRequest):
            return provider.void(request)
        return provider.refund(request)
    except Exception:
        log.exception("provider %s call %s failed; the outcome is unknown", provider.name, request.attempt_id)
        return ProviderOutcome(
            OutcomeStatus.timed_out,
            request.attempt_id,
            None,
            request.amount_minor,
            error_code="provider_error",
        )


def _two_phase(
    writer: Writer,
    provider: PaymentProvider,
    begin: Callable[[UnitOfWork], dict[str, Any]],
    actor: Actor,
    request_id: str | None,
    idempotency: IdempotencyClaim | None,
) -> Outcome:
    first = execute(writer, begin, actor, request_id=request_id, idempotency=idempotency)
    req = first.body.get("provider_request")
    if req is None:
        return first  # completed without a provider (store credit)
    second = send(writer, provider, req, actor, request_id=request_id)
    return Outcome(first.status, second, replayed=first.replayed)


def send(
    writer: Writer,
    provider: PaymentProvider,
    req: Mapping[str, Any],
    actor: Actor,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Call the provider for one staged operation and record its outcome; then send the calls the
    outcome staged in turn (``follow_up``: a void or refund for an order that will not ship)."""
    outcome = call_provider(provider, provider_request(req))
    record = RECORD[req["kind"]]
    body: dict[str, Any] = execute(
        writer, lambda uow: record(uow, req["attempt_id"], outcome), actor, request_id=request_id
    ).body
    send_all(writer, provider, body.get("follow_up", ()), actor, request_id=request_id)
    return body


def send_all(
    writer: Writer,
    provider: PaymentProvider,
    requests: Iterable[Mapping[str, Any]],
    actor: Actor,
    *,
    request_id: str | None = None,
) -> list[dict[str, Any]]:
    """``send`` each staged call in order; a call that fails is left to the reconciler."""
    return [send(writer, provider, req, actor, request_id=request_id) for req in requests]


def cancel_order(
    writer: Writer,
    provider: PaymentProvider,
    order_id: str,
    cmd: CancelOrder,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    """Cancel an order, then void its holds and refund its captures with the provider."""
    first = execute(
        writer, bind(svc.cancel_order, order_id, cmd), actor, request_id=request_id, idempotency=idempotency
    )
    if not first.replayed:
        send_all(writer, provider, first.body.get("follow_up", ()), actor, request_id=request_id)
    return first


_CAPTURE_STATUS = {"succeeded": "captured", "failed": "declined", "unknown": "unknown"}


def dispatch(
    writer: Writer,
    provider: PaymentProvider,
    order_id: str,
    cmd: shipping.ShipOrder,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    """Ship a parcel, then capture its share of the card authorization with the provider."""
    first = execute(
        writer,
        bind(shipping.dispatch, order_id, cmd),
        actor,
        request_id=request_id,
        idempotency=idempotency,
    )
    req = first.body.get("provider_request")
    if req is None or first.replayed:
        return first
    captured = send(writer, provider, req, actor, request_id=request_id)
    shipment = {**first.body["shipment"], "capture_status": _CAPTURE_STATUS[captured["operation_status"]]}
    return Outcome(first.status, {**first.body, "shipment": shipment, "capture": captured}, replayed=False)


def authorize_order(
    writer: Writer,
    provider: PaymentProvider,
    order_id: str,
    cmd: svc.AuthorizePayment,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    """Pay an order: commit the attempt, ask the provider, commit the outcome."""
    return _two_phase(
        writer,
        provider,
        lambda uow: svc.begin_authorization(uow, order_id, cmd, provider=provider.name),
        actor,
        request_id,
        idempotency,
    )


def capture_payment(
    writer: Writer,
    provider: PaymentProvider,
    payment_id: str,
    amount_minor: int | None,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    return _two_phase(
        writer,
        provider,
        lambda uow: svc.begin_capture(uow, payment_id, amount_minor),
        actor,
        request_id,
        idempotency,
    )


def void_payment(
    writer: Writer,
    provider: PaymentProvider,
    payment_id: str,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    return _two_phase(
        writer, provider, lambda uow: svc.begin_void(uow, payment_id), actor, request_id, idempotency
    )


def refund_payment(
    writer: Writer,
    provider: PaymentProvider,
    cmd: svc.RefundPayment,
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Outcome:
    return _two_phase(
        writer, provider, lambda uow: svc.begin_refund(uow, cmd), actor, request_id, idempotency
    )


def reconcile_unknown(
    writer: Writer,
    provider: PaymentProvider,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
    stale_after: timedelta = timedelta(minutes=5),
) -> dict[str, int]:
    """Ask the provider about every operation whose outcome is unknown, and bank transfers awaiting
    funds; record what it now knows. Returns counts (settled, still unknown, funds received)."""
    work = execute(
        writer, lambda uow: svc.operations_to_reconcile(uow, now=now, stale_after=stale_after), actor
    ).body
    counts = {"checked": len(work), "settled": 0, "still_unknown": 0, "funds_received": 0}
    for item in work:
        req = item["request"]
        outcome = call_provider(provider, provider_request(req), lookup=True)
        if outcome.status is OutcomeStatus.timed_out:
            counts["still_unknown"] += 1
            continue
        if req["kind"] == "funds":
            if outcome.status is OutcomeStatus.succeeded and outcome.captured:
                body = execute(
                    writer, bind(svc.record_funds_received, item["payment_id"], outcome), actor
                ).body
                send_all(writer, provider, body.get("follow_up", ()), actor)
                counts["funds_received"] += 1
            continue
        body = execute(writer, bind(RECORD[req["kind"]], item["operation_id"], outcome), actor).body
        send_all(writer, provider, body.get("follow_up", ()), actor)
        counts["settled"] += 1
    return counts


def bind(fn: Callable[..., Any], *args: Any) -> Callable[[UnitOfWork], Any]:
    """A writer command calling ``fn(uow, *args)``."""
    return lambda uow: fn(uow, *args)
