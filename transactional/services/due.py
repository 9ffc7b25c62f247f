"""Work that falls due with time: the one service the server loop and the demo simulator call.

Both run it as an ordinary write command with ``uow.now`` from their own
clock (the simulator's is simulated), so "due" means due at that clock. It
expires orders whose payment window has elapsed, closes card holds and
bank-transfer waits whose time is up (services/payments.py
``expire_authorizations``: the order is cancelled and its stock released when
nothing has shipped yet), and completes delivered orders once the return
window (``RETURN_WINDOW``) has passed, which also lets them leave the writer's
memory. The payment reconciler needs the provider, so the server runs it
beside this (services/payment_flow.py). Low stock needs no timed check:
``move_stock`` raises and resolves alerts in the same commit as the change.

Each call does at most ``limit`` orders, oldest deadline first, so that one
call never stalls the writer; ``more_due`` says to call again at once.

Given an ``idempotency_cutoff``, it also forgets Idempotency-Keys stored
before it (retention, DECISIONLOG §6); the server passes one every few
minutes, not on every tick, because finding them is a scan of the window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from transactional.domain.access import SYSTEM
from transactional.domain.orders import RETURN_WINDOW, OrderStatus
from transactional.services.orders import change_order_status, expire_order
from transactional.services.payments import expire_authorizations
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

MAX_ORDERS_PER_CALL = 500


def _awaiting_funds(uow: UnitOfWork, order: Row) -> bool:
    """A bank transfer waits for its funds with its own, longer expiry (expire_authorizations)."""
    return any(p["status"] == "awaiting_funds" for p in uow.lookup("payments", "order_id", order["order_id"]))


def run_due(
    uow: UnitOfWork,
    *,
    limit: int = MAX_ORDERS_PER_CALL,
    idempotency_cutoff: datetime | None = None,
    close_delivered: bool = True,
) -> dict[str, Any]:
    """Expire unpaid orders whose ``expires_at <= uow.now``; return counts and ``more_due``."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # Every non-terminal order is in the writer's memory, so this lookup is complete.
    due = sorted(
        (
            o
            for o in uow.lookup("orders", "status", OrderStatus.pending_payment.value)
            if o["expires_at"] is not None and o["expires_at"] <= uow.now and not _awaiting_funds(uow, o)
        ),
        key=lambda o: (o["expires_at"], o["order_id"]),
    )
    for order in due[:limit]:
        expire_order(uow, order)
    holds = expire_authorizations(uow, limit=limit)
    # Closing is measured in days: a caller ticking often (the simulator, hourly) may skip it.
    closing = sorted(
        (
            o
            for o in (uow.lookup("orders", "status", OrderStatus.delivered.value) if close_delivered else ())
            if o["delivered_at"] is not None and o["delivered_at"] + RETURN_WINDOW <= uow.now
        ),
        key=lambda o: (o["delivered_at"], o["order_id"]),
    )
    for order in closing[:limit]:
        change_order_status(uow, order, OrderStatus.completed, reason="return window closed", actor=SYSTEM)
    pruned = 0
    if idempotency_cutoff is not None:
        stale = [k for k in uow.scan("idempotency_keys") if k["created_at"] < idempotency_cutoff]
        for key in stale[:limit]:
            uow.delete("idempotency_keys", (key["api_key_id"], key["route"], key["idempotency_key"]))
        pruned = min(len(stale), limit)
    return {
        "idempotency_keys_pruned": pruned,
        "orders_expired": min(len(due), limit),
        "expired_order_ids": [o["order_id"] for o in due[:limit]],
        "authorizations_expired": holds["authorizations_expired"],
        "hold_cancelled_order_ids": holds["cancelled_order_ids"],
        "orders_completed": min(len(closing), limit),
        "more_due": len(due) > limit or holds["more_due"] or len(closing) > limit,
        "as_of": uow.now,
    }
