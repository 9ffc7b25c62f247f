"""Payments, refunds, store credit and the ledger (PAY-1 to PAY-5): the writer-side services.

Provider calls never run inside the writer (DESIGN.md, "The write path"), so
every operation that reaches a provider is two commands:

1. ``begin_*`` validates everything, stages the payment (or refund) and a
   ``payment_operations`` row ``pending``, and returns ``provider_request``:
   what the caller sends to the provider, its ``attempt_id`` being the
   operation id (the provider's idempotency key).
2. ``record_*`` applies the provider's answer: the domain transition
   (domain/payments.py), the ledger postings (domain/ledger.py) and an audit
   row. A timeout leaves the operation ``unknown`` and the reconciler
   (services/payment_flow.py) asks again. Recording an operation that is
   already settled changes nothing and returns the current state, so a late
   answer, a retry and the reconciler can all record the same operation.

What needs no provider completes in one command: paying with store credit
(``begin_authorization`` draws the balance down and captures at once), a
refund to store credit, and an admin's voucher. ``begin_*`` then returns
``provider_request: None``.

Rules decided here (also in DECISIONLOG.md §7):

- One attempt at a time per order: a new authorization is refused while an
  earlier one is pending, unknown or awaiting a bank transfer's funds
  (``payment_in_progress``). The amount is the order's total
  (``amount_mismatch`` if the client sends another) in the store currency.
- Amounts in flight count: a capture may take at most the open hold minus the
  captures already sent, a refund at most captured − refunded − refunds sent
  (so concurrent requests never overdraw); a void is refused while a capture
  is in flight (``capture_in_flight``).
- A refund of a store-credit payment always goes back to store credit; a
  refund to store credit needs a customer order (``store_credit_requires_customer``),
  as does paying with store credit.
- A payment that secures an order moves it to paid and at once on to picking
  (released to the warehouse), and emits the clickstream's ``purchase``.
- Money secured for an order that expired or was cancelled while the provider
  was being called is recorded (the ledger must match the provider), audited
  as ``payment.order_not_payable`` and given straight back (``give_back``: the
  hold voided, a capture refunded); the order's status is not changed.
  Cancelling an order gives its money back the same way.
- Refunds are by amount, or by lines (and shipping) at the lines' own
  amounts (domain/refunds.py); units refunded before they shipped are
  cancelled and their reservations released. Every refund that succeeds emits
  the clickstream's ``refund``.
- A card hold or bank-transfer wait whose time is up is closed by due work
  (``expire_authorizations``); before anything shipped the order is cancelled.
- Every posting goes through ``post``; every money movement writes an audit
  row with the actor's key and the request id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from transactional.domain import events, ledger
from transactional.domain import payments as pay
from transactional.domain import refunds as refunds_rule
from transactional.domain import store_credit as sc
from transactional.domain.access import SYSTEM, Role
from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Forbidden, IllegalTransition, Invalid
from transactional.domain.orders import OrderStatus
from transactional.domain.words import PAYMENT_METHODS, require_word
from transactional.providers.payments import OutcomeStatus, PaymentSource, ProviderOutcome, validate_source
from transactional.services import orders as orders_svc
from transactional.services.orders import (
    CancelOrder,
    active_lines,
    change_order_status,
    order_for_actor,
    release_units,
)
from transactional.services.storefront_events import emit_server_event
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

DEFAULT_PROVIDER = "sandbox"

_IN_FLIGHT = ("pending", "unknown")
_SETTLED = ("succeeded", "failed")
_S = pay.PaymentStatus

# -- command models (also the HTTP request bodies) -------------------------------------

Amount = Annotated[int, Field(strict=True, ge=1, le=10**12)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AuthorizePayment(_Model):
    """Pay an order: a method, and for provider methods a token (plus brand and last 4 for a card)."""

    method: Annotated[str, Field(description="card, alipay, wechat_pay, bank_transfer or store_credit")]
    token: Annotated[str | None, Field(max_length=200)] = None
    card_brand: Annotated[str | None, Field(max_length=200)] = None
    card_last4: Annotated[str | None, Field(max_length=200)] = None
    currency: Annotated[str | None, Field(max_length=200)] = None
    amount_minor: Amount | None = None


class RefundLine(_Model):
    order_line_id: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(strict=True, ge=1, le=1000)]


class RefundPayment(_Model):
    """Refund by amount, or by lines (and shipping), of one payment or of an order's refundable payment."""

    payment_id: Annotated[str | None, Field(max_length=64)] = None
    order_id: Annotated[str | None, Field(max_length=64)] = None
    amount_minor: Amount | None = None
    lines: Annotated[list[RefundLine] | None, Field(max_length=100)] = None
    include_shipping: bool = False
    destination: Annotated[str, Field(description="original or store_credit")] = "original"
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class IssueStoreCredit(_Model):
    """An admin's voucher."""

    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount_minor: Amount
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# -- authorization ----------------------------------------------------------------------


def begin_authorization(
    uow: UnitOfWork, order_id: str, cmd: AuthorizePayment, *, provider: str = DEFAULT_PROVIDER
) -> dict[str, Any]:
    """Stage a payment attempt and its authorize call as pending (store credit: pay at once)."""
    # Card fields are scanned first, so a card number is refused before anything echoes it.
    reject_card_data(
        {"token": cmd.token, "card_brand": cmd.card_brand, "card_last4": cmd.card_last4}, field_kind="card"
    )
    method = require_word("payment_method", cmd.method, PAYMENT_METHODS)
    store = uow.store
    order = order_for_actor(uow, order_id)
    currency = pay.check_currency((cmd.currency or store["currency"]).upper(), store["currency"])
    if order["status"] != OrderStatus.pending_payment:
        raise IllegalTransition(
            f"order {order_id} is {order['status']}; only an order awaiting payment can be paid",
            code="order_not_payable",
            current=order["status"],
        )
    amount = order["total_minor"]
    if cmd.amount_minor is not None and cmd.amount_minor != amount:
        raise Invalid(
            f"the payment must be the order total {amount}, not {cmd.amount_minor}",
            code="amount_mismatch",
            total_minor=amount,
        )
    busy = [p for p in uow.lookup("payments", "order_id", order_id) if p["status"] in _BUSY]
    if busy:
        raise Conflict(
            f"order {order_id} already has payment {busy[0]['payment_id']} {busy[0]['status']}",
            code="payment_in_progress",
            payment_id=busy[0]["payment_id"],
        )
    if method == "store_credit":
        if cmd.token is not None or cmd.card_brand is not None or cmd.card_last4 is not None:
            raise Invalid(
                "a store_credit payment carries no token or card details", code="invalid_card_details"
            )
        return _pay_with_store_credit(uow, order, currency, amount)
    source = validate_source(method, PaymentSource(cmd.token or "", cmd.card_brand, cmd.card_last4))

    payment = pay.new_payment(uow.new_id("pay"), order_id, method, currency, amount)
    attempt_id = uow.new_id("pop")
    row = _insert_payment(uow, payment, order, provider=provider, source=source, attempt_id=attempt_id)
    op = _insert_operation(uow, row, "authorize", amount, operation_id=attempt_id)
    return {
        **payment_view(row),
        "operation_id": op["operation_id"],
        "provider_request": {
            "kind": "authorize",
            "attempt_id": op["operation_id"],
            "method": method,
            "currency": currency,
            "amount_minor": amount,
            "token": source.token,
            "card_brand": source.card_brand,
            "card_last4": source.card_last4,
        },
    }


_BUSY = frozenset({_S.pending.value, _S.unknown.value, _S.awaiting_funds.value})


def _pay_with_store_credit(uow: UnitOfWork, order: Row, currency: str, amount: int) -> dict[str, Any]:
    customer_id = _require_customer(order)
    account = uow.get("store_credit_accounts", customer_id)
    balance = sc.CreditBalance(account["balance_minor"] if account is not None else 0)
    new_balance, movement = sc.draw_down(balance, amount)  # insufficient_store_credit
    payment = pay.new_payment(uow.new_id("pay"), order["order_id"], "store_credit", currency, amount)
    row = _insert_payment(uow, payment, order, provider=None, source=None, attempt_id=None)
    new, step = pay.authorize(payment, at=uow.now)
    _store_credit_move(
        uow,
        customer_id,
        account,
        new_balance,
        movement,
        reference_type="payment",
        reference_id=row["payment_id"],
    )
    row = _apply(uow, row, new, step, fee_minor=0)
    _mark_order_paid(uow, row)
    return {**payment_view(row), "operation_id": None, "provider_request": None}


def record_authorization(uow: UnitOfWork, operation_id: str, outcome: ProviderOutcome) -> dict[str, Any]:
    """Apply the provider's answer to an authorize call (module docstring)."""
    op = _operation(uow, operation_id, "authorize", outcome)
    row = uow.require("payments", op["payment_id"], code="payment_not_found", what="payment")
    if op["status"] in _SETTLED:
        return _replay(row, op)
    payment = _payment(row)
    status = outcome.status
    if status is OutcomeStatus.timed_out:
        if payment.status is _S.pending:
            row = _save(uow, row, pay.mark_unknown(payment)[0])
        return _settle(uow, row, op, "unknown", outcome)
    if status in (OutcomeStatus.declined, OutcomeStatus.failed):
        new, _ = pay.fail(payment, code=outcome.error_code or status.value)
        row = _save(uow, row, new)
        uow.audit(
            "payment.failed", "payment", row["payment_id"], order_id=row["order_id"], code=new.failure_code
        )
        return _settle(uow, row, op, "failed", outcome)
    # succeeded (card hold, wallet completed) or pending (bank transfer instructions issued)
    new, step = pay.authorize(payment, at=uow.now, provider_ref=outcome.provider_ref)
    if new.status is _S.awaiting_funds and outcome.captured:
        # A timed-out bank transfer looked up after the funds arrived.
        new, step = pay.funds_received(new, outcome.amount_minor)
    row = _apply(uow, row, new, step, fee_minor=outcome.fee_minor if step is not None else 0)
    follow_up = _mark_order_paid(uow, row) if pay.is_paid(new) else []
    return {**_settle(uow, row, op, "succeeded", outcome), "follow_up": follow_up}


def record_funds_received(uow: UnitOfWork, payment_id: str, outcome: ProviderOutcome) -> dict[str, Any]:
    """A bank transfer's funds arrived (the provider's lookup says captured): capture it, order paid."""
    row = uow.require("payments", payment_id, code="payment_not_found", what="payment")
    payment = _payment(row)
    if outcome.status is not OutcomeStatus.succeeded or not outcome.captured:
        return payment_view(row)  # still waiting
    new, step = pay.funds_received(payment, outcome.amount_minor)
    row = _apply(uow, row, new, step, fee_minor=outcome.fee_minor)
    return {**payment_view(row), "follow_up": _mark_order_paid(uow, row)}


# -- capture and void ---------------------------------------------------------------------


def begin_capture(
    uow: UnitOfWork, payment_id: str, amount_minor: int | None = None, *, shipment_id: str | None = None
) -> dict[str, Any]:
    """Stage a capture of ``amount_minor`` (default: all that is still held and not in flight);
    a dispatch names its shipment."""
    row = uow.require("payments", payment_id, code="payment_not_found", what="payment")
    payment = _payment(row)
    sent = in_flight(uow, payment_id, "capture")
    amount = amount_minor if amount_minor is not None else max(payment.open_minor - sent, 1)
    pay.check_capture(payment, amount, in_flight_minor=sent)
    captured_before = payment.captured_minor + sent
    op = _insert_operation(
        uow, row, "capture", amount, captured_before=captured_before, shipment_id=shipment_id
    )
    return {
        **payment_view(row),
        "operation_id": op["operation_id"],
        "provider_request": _follow_up_request(
            "capture", op, row, amount, captured_before_minor=captured_before
        ),
    }


def record_capture(uow: UnitOfWork, operation_id: str, outcome: ProviderOutcome) -> dict[str, Any]:
    """Apply the provider's answer to a capture: revenue recognized, the fee booked."""
    op = _operation(uow, operation_id, "capture", outcome)
    row = uow.require("payments", op["payment_id"], code="payment_not_found", what="payment")
    if op["status"] in _SETTLED:
        return _replay(row, op)
    if outcome.status is OutcomeStatus.timed_out:
        _shipment_capture(uow, op, "unknown")
        return _settle(uow, row, op, "unknown", outcome)
    if outcome.status is not OutcomeStatus.succeeded:
        # The hold stays open (and a card's amount stays a receivable) for operators to chase.
        uow.audit(
            "payment.capture_failed",
            "payment",
            row["payment_id"],
            order_id=row["order_id"],
            amount_minor=op["amount_minor"],
            code=outcome.error_code,
        )
        _shipment_capture(uow, op, "declined")
        return _settle(uow, row, op, "failed", outcome)
    new, step = pay.capture(_payment(row), op["amount_minor"])
    row = _apply(uow, row, new, step, fee_minor=outcome.fee_minor)
    _shipment_capture(uow, op, "captured")
    return _settle(uow, row, op, "succeeded", outcome)


def _shipment_capture(uow: UnitOfWork, op: Row, status: str) -> None:
    """Keep a dispatch's capture status in step; a decline after the goods left flags the order."""
    if op["shipment_id"] is None:
        return
    shipment = uow.get("shipments", op["shipment_id"])
    if shipment is not None:
        uow.update("shipments", shipment["shipment_id"], capture_status=status, updated_at=uow.now)
    if status == "declined":
        order = uow.require("orders", op["order_id"], code="order_not_found", what="order")
        uow.update("orders", order["order_id"], attention_code="capture_declined", attention_at=uow.now)
        uow.audit(
            "order.attention",
            "order",
            order["order_id"],
            code="capture_declined",
            shipment_id=op["shipment_id"],
            amount_minor=op["amount_minor"],
        )


def begin_void(uow: UnitOfWork, payment_id: str) -> dict[str, Any]:
    """Stage the release of a card hold's uncaptured remainder."""
    row = uow.require("payments", payment_id, code="payment_not_found", what="payment")
    payment = _payment(row)
    pay.void(payment)  # payment_not_voidable, before anything else
    if in_flight(uow, payment_id, "capture"):
        raise Conflict(f"a capture of payment {payment_id} is in flight", code="capture_in_flight")
    op = _insert_operation(uow, row, "void", payment.open_minor)
    return {
        **payment_view(row),
        "operation_id": op["operation_id"],
        "provider_request": _follow_up_request("void", op, row, payment.open_minor),
    }


def record_void(uow: UnitOfWork, operation_id: str, outcome: ProviderOutcome) -> dict[str, Any]:
    op = _operation(uow, operation_id, "void", outcome)
    row = uow.require("payments", op["payment_id"], code="payment_not_found", what="payment")
    if op["status"] in _SETTLED:
        return _replay(row, op)
    if outcome.status is OutcomeStatus.timed_out:
        return _settle(uow, row, op, "unknown", outcome)
    if outcome.status is not OutcomeStatus.succeeded:
        return _settle(uow, row, op, "failed", outcome)
    new, step = pay.void(_payment(row))
    row = _apply(uow, row, new, step, fee_minor=0)
    return _settle(uow, row, op, "succeeded", outcome)


# -- refunds ------------------------------------------------------------------------------


def begin_refund(uow: UnitOfWork, cmd: RefundPayment) -> dict[str, Any]:
    """Refund by amount or by lines; to store credit (or of a store-credit payment) it completes at once."""
    reason = (cmd.reason or "").strip()
    if not reason:
        raise Invalid("a reason is required", code="reason_required")
    reject_card_data({"reason": reason}, field_kind="free_text")
    destination = cmd.destination
    if destination not in ("original", "store_credit"):
        raise Invalid(
            f"refund destination must be original or store_credit, got {destination!r}",
            code="invalid_refund_destination",
        )
    if (cmd.payment_id is None) == (cmd.order_id is None):
        raise Invalid("give exactly one of payment_id or order_id", code="payment_or_order_required")
    by_lines = cmd.lines is not None or cmd.include_shipping
    if by_lines == (cmd.amount_minor is not None):
        raise Invalid(
            "give either amount_minor or lines (and/or include_shipping), not both", code="amount_or_lines"
        )
    order_id = cmd.order_id
    if cmd.payment_id is not None:
        order_id = uow.require("payments", cmd.payment_id, code="payment_not_found", what="payment")[
            "order_id"
        ]
    order = order_for_actor(uow, order_id)  # type: ignore[arg-type]
    split: ledger.Split | None = None
    lines_json = None
    if by_lines:
        split, parts = _line_refund(uow, order, cmd)
        amount = split.total_minor
        lines_json = orjson.dumps(
            {
                "lines": [
                    {
                        "order_line_id": p.order_line_id,
                        "quantity": p.quantity,
                        "revenue_minor": p.revenue_minor,
                        "tax_minor": p.tax_minor,
                    }
                    for p in parts
                ],
                "shipping_minor": split.shipping_minor,
            }
        ).decode()
    else:
        amount = cmd.amount_minor  # type: ignore[assignment]
    if cmd.payment_id is not None:
        row = uow.require("payments", cmd.payment_id, code="payment_not_found", what="payment")
    else:
        row = _refundable_payment(uow, order["order_id"])
    pay.check_refund(_payment(row), amount, in_flight_minor=in_flight(uow, row["payment_id"], "refund"))
    to_credit = destination == "store_credit" or row["method"] == "store_credit"
    refund_row, request = _stage_refund(
        uow, row, order, amount, to_credit=to_credit, reason=reason, lines_json=lines_json
    )
    return {
        **refund_view(refund_row),
        "payment": payment_view(uow.require("payments", row["payment_id"])),
        "provider_request": request,
    }


def _line_refund(
    uow: UnitOfWork, order: Row, cmd: RefundPayment
) -> tuple[ledger.Split, list[refunds_rule.LineRefund]]:
    """The split of a refund by lines, counting units in refunds still with the provider."""
    pending: dict[str, int] = {}
    shipping_pending = 0
    for r in uow.lookup("refunds", "order_id", order["order_id"]):
        if r["status"] in _IN_FLIGHT and r["lines_json"]:
            body = orjson.loads(r["lines_json"])
            shipping_pending += body["shipping_minor"]
            for ln in body["lines"]:
                pending[ln["order_line_id"]] = pending.get(ln["order_line_id"], 0) + ln["quantity"]
    lines = {
        ln["order_line_id"]: refunds_rule.LineAmounts(
            quantity=ln["quantity"],
            quantity_refunded=ln["quantity_refunded"] + pending.get(ln["order_line_id"], 0),
            net_minor=ln["net_minor"],
            tax_minor=ln["tax_minor"],
        )
        for ln in active_lines(uow, order["order_id"])
    }
    shipping_left = 0
    if cmd.include_shipping:
        refunded_shipping = sum(
            p["refunded_shipping_minor"] for p in uow.lookup("payments", "order_id", order["order_id"])
        )
        shipping_left = max(0, order["shipping_minor"] - refunded_shipping - shipping_pending)
    wanted = [(ln.order_line_id, ln.quantity) for ln in cmd.lines or ()]
    return refunds_rule.refund_lines(lines, wanted, shipping_left_minor=shipping_left)


def _stage_refund(
    uow: UnitOfWork,
    row: Row,
    order: Row,
    amount: int,
    *,
    to_credit: bool,
    reason: str,
    lines_json: str | None = None,
) -> tuple[Row, dict[str, Any] | None]:
    """Insert a refund; to store credit it completes here, else its provider call is staged."""
    customer_id = _require_customer(order) if to_credit else None
    refund_id = uow.new_id("rfd")
    refund = {
        "refund_id": refund_id,
        "order_id": order["order_id"],
        "payment_id": row["payment_id"],
        "operation_id": None,
        "amount_minor": amount,
        "destination": "store_credit" if to_credit else "original",
        "reason": reason,
        "lines_json": lines_json,
        "status": "pending",
        "revenue_minor": 0,
        "tax_minor": 0,
        "shipping_minor": 0,
        "created_at": uow.now,
        "updated_at": uow.now,
        "actor_key_id": uow.actor.key_id,
        "request_id": uow.request_id,
    }
    if to_credit:
        assert customer_id is not None
        account = uow.get("store_credit_accounts", customer_id)
        balance = sc.CreditBalance(account["balance_minor"] if account is not None else 0)
        new_balance, movement = sc.refund_to_credit(balance, amount)
        uow.insert("refunds", refund)
        _store_credit_move(
            uow, customer_id, account, new_balance, movement, reference_type="refund", reference_id=refund_id
        )
        _, refund_row = _apply_refund(uow, row, uow.require("refunds", refund_id), destination="store_credit")
        return refund_row, None
    op = _insert_operation(uow, row, "refund", amount, refund_id=refund_id)
    refund_row = uow.insert("refunds", {**refund, "operation_id": op["operation_id"]})
    return refund_row, _follow_up_request("refund", op, row, amount)


def record_refund(uow: UnitOfWork, operation_id: str, outcome: ProviderOutcome) -> dict[str, Any]:
    """Apply the provider's answer to a refund sent back to the original method."""
    op = _operation(uow, operation_id, "refund", outcome)
    row = uow.require("payments", op["payment_id"], code="payment_not_found", what="payment")
    refund_row = uow.require("refunds", op["refund_id"], code="refund_not_found", what="refund")
    if op["status"] in _SETTLED:
        return {**refund_view(refund_row), "payment": payment_view(row)}
    if outcome.status is OutcomeStatus.timed_out:
        refund_row = uow.update("refunds", refund_row["refund_id"], status="unknown", updated_at=uow.now)
        _settle(uow, row, op, "unknown", outcome)
        return {**refund_view(refund_row), "payment": payment_view(row)}
    if outcome.status is not OutcomeStatus.succeeded:
        refund_row = uow.update("refunds", refund_row["refund_id"], status="failed", updated_at=uow.now)
        _settle(uow, row, op, "failed", outcome)
        return {**refund_view(refund_row), "payment": payment_view(row)}
    row, refund_row = _apply_refund(uow, row, refund_row, destination="original")
    _settle(uow, row, op, "succeeded", outcome)
    return {**refund_view(refund_row), "payment": payment_view(row)}


def _refundable_payment(uow: UnitOfWork, order_id: str) -> Row:
    """The order's payment with the most left to refund (refunds in flight counted)."""
    best: tuple[int, str, Row] | None = None
    for row in uow.lookup("payments", "order_id", order_id):
        if row["status"] not in _REFUNDABLE:
            continue
        left = row["captured_minor"] - row["refunded_minor"] - in_flight(uow, row["payment_id"], "refund")
        if best is None or (left, row["payment_id"]) > best[:2]:
            best = (left, row["payment_id"], row)
    if best is None:
        raise IllegalTransition(
            f"order {order_id} has no captured payment to refund", code="payment_not_refundable"
        )
    return best[2]


_REFUNDABLE = frozenset(
    {_S.partially_captured.value, _S.captured.value, _S.partially_refunded.value, _S.refunded.value}
)


def _apply_refund(uow: UnitOfWork, row: Row, refund_row: Row, *, destination: str) -> tuple[Row, Row]:
    amount = refund_row["amount_minor"]
    new, _ = pay.refund(_payment(row), amount)
    recognized = ledger.Split(
        row["recognized_revenue_minor"], row["recognized_tax_minor"], row["recognized_shipping_minor"]
    )
    refunded = ledger.Split(
        row["refunded_revenue_minor"], row["refunded_tax_minor"], row["refunded_shipping_minor"]
    )
    left = recognized - refunded
    split = ledger.split_amount(amount, left)
    body = orjson.loads(refund_row["lines_json"]) if refund_row["lines_json"] else None
    if body is not None:
        own = ledger.Split(
            sum(ln["revenue_minor"] for ln in body["lines"]),
            sum(ln["tax_minor"] for ln in body["lines"]),
            body["shipping_minor"],
        )
        # The lines' own amounts, unless partial captures recognized less of a part than they name.
        if (
            own.revenue_minor <= left.revenue_minor
            and own.tax_minor <= left.tax_minor
            and own.shipping_minor <= left.shipping_minor
        ):
            split = own
        _apply_line_refund(uow, row["order_id"], body["lines"], refund_row["refund_id"])
    post(
        uow,
        ledger.refund_posting(
            posting_id=uow.new_id("pst"),
            reference=refund_row["refund_id"],
            split=split,
            method=row["method"],
            destination="store_credit" if destination == "store_credit" else "original",
            provider=row["provider"],
        ),
        reference_type="refund",
        order_id=row["order_id"],
        payment_id=row["payment_id"],
    )
    after = refunded + split
    row = _save(
        uow,
        row,
        new,
        refunded_revenue_minor=after.revenue_minor,
        refunded_tax_minor=after.tax_minor,
        refunded_shipping_minor=after.shipping_minor,
    )
    refund_row = uow.update(
        "refunds",
        refund_row["refund_id"],
        status="succeeded",
        revenue_minor=split.revenue_minor,
        tax_minor=split.tax_minor,
        shipping_minor=split.shipping_minor,
        updated_at=uow.now,
    )
    _emit_refund_event(uow, row["order_id"], refund_row, split, body)
    uow.audit(
        "payment.refund",
        "payment",
        row["payment_id"],
        order_id=row["order_id"],
        refund_id=refund_row["refund_id"],
        amount_minor=amount,
        destination=destination,
    )
    return row, refund_row


def _emit_refund_event(
    uow: UnitOfWork, order_id: str, refund_row: Row, split: ledger.Split, body: dict[str, Any] | None
) -> None:
    """The clickstream's refund event for a refund that succeeded, with the refunded lines."""
    order = uow.require("orders", order_id, code="order_not_found", what="order")
    lines: list[dict[str, Any]] = []
    for part in body["lines"] if body is not None else ():
        line = uow.require("order_lines", part["order_line_id"])
        lines.append({**line, "quantity": part["quantity"]})
    emit_server_event(
        uow,
        events.server_refund_event(
            order,
            refund_row["refund_id"],
            refund_row["amount_minor"],
            order["session_id"],
            uow.now,
            lines=lines,
            tax_minor=split.tax_minor,
            shipping_minor=split.shipping_minor,
        ),
    )


def _apply_line_refund(uow: UnitOfWork, order_id: str, lines: list[dict[str, Any]], refund_id: str) -> None:
    """Count refunded units on their lines; units not yet shipped are cancelled and their stock released.

    When nothing is left to ship the order moves on: cancelled if nothing
    shipped at all, shipped if the rest already left.
    """
    for part in lines:
        line = uow.require(
            "order_lines", part["order_line_id"], code="order_line_not_found", what="order line"
        )
        cancel = refunds_rule.units_to_cancel(
            line["quantity"], line["quantity_shipped"], line["quantity_cancelled"], part["quantity"]
        )
        if cancel:
            release_units(uow, order_id, line["order_line_id"], cancel, reason=f"refund {refund_id}")
        uow.update(
            "order_lines",
            line["order_line_id"],
            quantity_refunded=line["quantity_refunded"] + part["quantity"],
            quantity_cancelled=line["quantity_cancelled"] + cancel,
        )
    order = uow.require("orders", order_id, code="order_not_found", what="order")
    if order["status"] not in (OrderStatus.paid, OrderStatus.picking, OrderStatus.partially_shipped):
        return
    active = active_lines(uow, order_id)
    if any(ln["quantity_shipped"] < ln["quantity"] - ln["quantity_cancelled"] for ln in active):
        return
    if all(ln["quantity_shipped"] == 0 for ln in active):
        change_order_status(
            uow,
            order,
            OrderStatus.cancelled,
            reason=f"every unit refunded ({refund_id})",
            cancelled_at=uow.now,
        )
    else:
        change_order_status(uow, order, OrderStatus.shipped, reason=f"rest refunded ({refund_id})")


# -- store credit ---------------------------------------------------------------------------


def issue_store_credit(uow: UnitOfWork, cmd: IssueStoreCredit) -> dict[str, Any]:
    """An admin's voucher: the customer's balance grows, voucher_expense against the liability."""
    if uow.actor.role not in (Role.admin, "system"):
        raise Forbidden("only an admin can issue store credit", code="role_forbidden")
    reason = (cmd.reason or "").strip()
    if not reason:
        raise Invalid("a reason is required", code="reason_required")
    reject_card_data({"reason": reason}, field_kind="free_text")
    uow.require("customers", cmd.customer_id, code="customer_not_found", what="customer")
    account = uow.get("store_credit_accounts", cmd.customer_id)
    balance = sc.CreditBalance(account["balance_minor"] if account is not None else 0)
    new_balance, movement = sc.issue(balance, cmd.amount_minor)
    voucher_id = uow.new_id("vch")
    _store_credit_move(
        uow,
        cmd.customer_id,
        account,
        new_balance,
        movement,
        reference_type="voucher",
        reference_id=voucher_id,
        reason=reason,
    )
    post(
        uow,
        ledger.store_credit_issue_posting(
            posting_id=uow.new_id("pst"), reference=voucher_id, amount_minor=cmd.amount_minor
        ),
        reference_type="voucher",
        order_id=None,
        payment_id=None,
    )
    uow.audit(
        "store_credit.issue",
        "customer",
        cmd.customer_id,
        voucher_id=voucher_id,
        amount_minor=cmd.amount_minor,
        reason=reason,
    )
    return {
        "voucher_id": voucher_id,
        "customer_id": cmd.customer_id,
        "amount_minor": cmd.amount_minor,
        "balance_minor": new_balance.balance_minor,
    }


def _store_credit_move(
    uow: UnitOfWork,
    customer_id: str,
    account: Row | None,
    new_balance: sc.CreditBalance,
    movement: sc.CreditMovement,
    *,
    reference_type: str,
    reference_id: str,
    reason: str | None = None,
) -> None:
    if account is None:
        uow.insert(
            "store_credit_accounts",
            {
                "customer_id": customer_id,
                "balance_minor": new_balance.balance_minor,
                "created_at": uow.now,
                "updated_at": uow.now,
            },
        )
    else:
        uow.update(
            "store_credit_accounts", customer_id, balance_minor=new_balance.balance_minor, updated_at=uow.now
        )
    uow.insert(
        "store_credit_movements",
        {
            "movement_id": uow.new_id("scm"),
            "customer_id": customer_id,
            "kind": movement.kind.value,
            "delta_minor": movement.delta_minor,
            "reference_type": reference_type,
            "reference_id": reference_id,
            "reason": reason,
            "occurred_at": uow.now,
            "actor_key_id": uow.actor.key_id,
            "request_id": uow.request_id,
        },
    )


# -- reconciliation -----------------------------------------------------------------------


def mark_orphaned_unknown(uow: UnitOfWork, *, before: datetime) -> dict[str, Any]:
    """Mark provider calls still pending from before ``before`` (a process that died mid-call) unknown.

    Run once when a server starts: no call of the new process can be pending
    yet, so every pending operation is an orphan and the reconciler may ask the
    provider about it at once.
    """
    orphans = [
        op for op in uow.lookup("payment_operations", "status", "pending") if op["requested_at"] < before
    ]
    for op in orphans:
        uow.update("payment_operations", op["operation_id"], status="unknown")
        if op["refund_id"] is not None:
            uow.update("refunds", op["refund_id"], status="unknown", updated_at=uow.now)
        row = uow.get("payments", op["payment_id"])
        if op["kind"] == "authorize" and row is not None and row["status"] == _S.pending.value:
            _save(uow, row, pay.mark_unknown(_payment(row))[0])
        uow.audit(
            "payment.orphaned", "payment", op["payment_id"], operation_id=op["operation_id"], kind=op["kind"]
        )
    return {"marked_unknown": len(orphans), "operation_ids": [op["operation_id"] for op in orphans]}


def operations_to_reconcile(
    uow: UnitOfWork, *, now: datetime, stale_after: timedelta = timedelta(minutes=5)
) -> list[dict[str, Any]]:
    """Provider calls whose outcome the store does not know, with the request to look them up.

    Unknown operations (timed out), pending ones older than ``stale_after`` (the
    process died during the call), and bank transfers still awaiting funds
    (``kind`` ``funds``). Stages nothing. Complete: every in-flight operation and
    every order awaiting payment is in the writer's memory.
    """
    work: list[dict[str, Any]] = []
    ops = [
        *uow.lookup("payment_operations", "status", "unknown"),
        *(
            op
            for op in uow.lookup("payment_operations", "status", "pending")
            if op["requested_at"] <= now - stale_after
        ),
    ]
    for op in sorted(ops, key=lambda o: o["operation_id"]):
        row = uow.get("payments", op["payment_id"])
        if row is None:
            continue
        request: dict[str, Any] = {
            "kind": op["kind"],
            "attempt_id": op["operation_id"],
            "method": row["method"],
            "currency": row["currency"],
            "amount_minor": op["amount_minor"],
        }
        if op["kind"] == "authorize":
            request |= {
                "token": row["token"],
                "card_brand": row["card_brand"],
                "card_last4": row["card_last4"],
            }
        else:
            request["provider_ref"] = row["provider_ref"]
        if op["kind"] == "capture":
            request["captured_before_minor"] = op["captured_before_minor"]
        work.append(
            {
                "operation_id": op["operation_id"],
                "payment_id": row["payment_id"],
                "requested_at": op["requested_at"],
                "request": request,
            }
        )
    for order in uow.lookup("orders", "status", OrderStatus.pending_payment.value):
        for row in uow.lookup("payments", "order_id", order["order_id"]):
            if row["status"] != _S.awaiting_funds.value:
                continue
            work.append(
                {
                    "operation_id": None,
                    "payment_id": row["payment_id"],
                    "requested_at": row["created_at"],
                    "request": {
                        "kind": "funds",
                        "attempt_id": row["attempt_id"],
                        "method": row["method"],
                        "currency": row["currency"],
                        "amount_minor": row["amount_minor"],
                        "token": row["token"],
                        "card_brand": None,
                        "card_last4": None,
                    },
                }
            )
    return work


# -- the ledger -----------------------------------------------------------------------------


def post(
    uow: UnitOfWork,
    posting: ledger.Posting,
    *,
    reference_type: str,
    order_id: str | None,
    payment_id: str | None,
) -> None:
    """Write a (balanced by construction) domain Posting as ledger_postings + ledger_lines rows."""
    uow.insert(
        "ledger_postings",
        {
            "posting_id": posting.posting_id,
            "kind": posting.kind.value,
            "reference_type": reference_type,
            "reference_id": posting.reference,
            "reverses": posting.reverses,
            "order_id": order_id,
            "payment_id": payment_id,
            "posted_at": uow.now,
            "actor_key_id": uow.actor.key_id,
            "request_id": uow.request_id,
        },
    )
    for line_no, line in enumerate(posting.lines, start=1):
        uow.insert(
            "ledger_lines",
            {
                "posting_id": posting.posting_id,
                "line_no": line_no,
                "account": line.account.value,
                "provider": line.provider,
                "debit_minor": line.debit_minor,
                "credit_minor": line.credit_minor,
            },
        )


# -- views ----------------------------------------------------------------------------------

_HIDDEN = frozenset({"token"})


def payment_view(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _HIDDEN}


def refund_view(row: Row) -> dict[str, Any]:
    return dict(row)


# -- helpers ----------------------------------------------------------------------------------


def _payment(row: Row) -> pay.Payment:
    return pay.Payment(
        payment_id=row["payment_id"],
        order_id=row["order_id"],
        method=row["method"],
        currency=row["currency"],
        amount_minor=row["amount_minor"],
        status=pay.PaymentStatus(row["status"]),
        authorized_minor=row["authorized_minor"],
        captured_minor=row["captured_minor"],
        refunded_minor=row["refunded_minor"],
        voided_minor=row["voided_minor"],
        expires_at=row["expires_at"],
        provider_ref=row["provider_ref"],
        failure_code=row["failure_code"],
    )


def _insert_payment(
    uow: UnitOfWork,
    payment: pay.Payment,
    order: Row,
    *,
    provider: str | None,
    source: PaymentSource | None,
    attempt_id: str | None,
) -> Row:
    return uow.insert(
        "payments",
        {
            "payment_id": payment.payment_id,
            "order_id": payment.order_id,
            "customer_id": order["customer_id"],
            "method": payment.method,
            "currency": payment.currency,
            "amount_minor": payment.amount_minor,
            "authorized_minor": 0,
            "captured_minor": 0,
            "refunded_minor": 0,
            "voided_minor": 0,
            "fee_minor": 0,
            "recognized_revenue_minor": 0,
            "recognized_tax_minor": 0,
            "recognized_shipping_minor": 0,
            "refunded_revenue_minor": 0,
            "refunded_tax_minor": 0,
            "refunded_shipping_minor": 0,
            "status": payment.status.value,
            "provider": provider,
            "provider_ref": None,
            "attempt_id": attempt_id,
            "token": source.token if source is not None else None,
            "card_brand": source.card_brand if source is not None else None,
            "card_last4": source.card_last4 if source is not None else None,
            "expires_at": None,
            "failure_code": None,
            "created_at": uow.now,
            "updated_at": uow.now,
        },
    )


def _insert_operation(
    uow: UnitOfWork,
    payment: Row,
    kind: str,
    amount: int,
    *,
    captured_before: int = 0,
    refund_id: str | None = None,
    operation_id: str | None = None,
    shipment_id: str | None = None,
) -> Row:
    return uow.insert(
        "payment_operations",
        {
            "operation_id": operation_id or uow.new_id("pop"),
            "payment_id": payment["payment_id"],
            "order_id": payment["order_id"],
            "refund_id": refund_id,
            "kind": kind,
            "amount_minor": amount,
            "captured_before_minor": captured_before,
            "status": "pending",
            "fee_minor": 0,
            "provider": payment["provider"],
            "provider_ref": None,
            "error_code": None,
            "requested_at": uow.now,
            "settled_at": None,
            "actor_key_id": uow.actor.key_id,
            "request_id": uow.request_id,
            "shipment_id": shipment_id,
        },
    )


def _operation(uow: UnitOfWork, operation_id: str, kind: str, outcome: ProviderOutcome) -> Row:
    op = uow.require(
        "payment_operations", operation_id, code="payment_operation_not_found", what="payment operation"
    )
    if op["kind"] != kind:
        raise Invalid(
            f"operation {operation_id} is a {op['kind']}, not a {kind}", code="operation_kind_mismatch"
        )
    if outcome.attempt_id != operation_id:
        raise Invalid(
            f"the outcome is for attempt {outcome.attempt_id}, not {operation_id}", code="outcome_mismatch"
        )
    return op


def in_flight(uow: UnitOfWork, payment_id: str, kind: str) -> int:
    """Σ amounts of this payment's ``kind`` calls sent to the provider and not settled."""
    return sum(
        op["amount_minor"]
        for op in uow.lookup("payment_operations", "payment_id", payment_id)
        if op["kind"] == kind and op["status"] in _IN_FLIGHT
    )


def _settle(uow: UnitOfWork, row: Row, op: Row, status: str, outcome: ProviderOutcome) -> dict[str, Any]:
    op = uow.update(
        "payment_operations",
        op["operation_id"],
        status=status,
        settled_at=uow.now if status in _SETTLED else None,
        fee_minor=outcome.fee_minor if status == "succeeded" else 0,
        provider_ref=outcome.provider_ref,
        error_code=outcome.error_code,
    )
    return _replay(row, op)


def _replay(row: Row, op: Row) -> dict[str, Any]:
    return {**payment_view(row), "operation_id": op["operation_id"], "operation_status": op["status"]}


def _save(uow: UnitOfWork, row: Row, new: pay.Payment, **extra: Any) -> Row:
    return uow.update(
        "payments",
        row["payment_id"],
        status=new.status.value,
        authorized_minor=new.authorized_minor,
        captured_minor=new.captured_minor,
        refunded_minor=new.refunded_minor,
        voided_minor=new.voided_minor,
        expires_at=new.expires_at,
        provider_ref=new.provider_ref,
        failure_code=new.failure_code,
        updated_at=uow.now,
        **extra,
    )


def _apply(
    uow: UnitOfWork, row: Row, new: pay.Payment, step: pay.PaymentMovement | None, *, fee_minor: int
) -> Row:
    """Save the new payment and book the movement of a hold, release or capture."""
    if step is None:
        return _save(uow, row, new)
    payment_id, order_id = row["payment_id"], row["order_id"]
    kind, amount = step.kind, step.amount_minor
    refs = {"reference_type": "payment", "order_id": order_id, "payment_id": payment_id}
    extra: dict[str, Any] = {}
    if kind is pay.MovementKind.hold:
        post(
            uow,
            ledger.hold_posting(posting_id=uow.new_id("pst"), reference=payment_id, amount_minor=amount),
            **refs,
        )
        action = "payment.authorized"
    elif kind is pay.MovementKind.release:
        post(
            uow,
            ledger.release_posting(posting_id=uow.new_id("pst"), reference=payment_id, amount_minor=amount),
            **refs,
        )
        action = "payment.released"
    elif kind is pay.MovementKind.capture:
        recognized = ledger.Split(
            row["recognized_revenue_minor"], row["recognized_tax_minor"], row["recognized_shipping_minor"]
        )
        split = ledger.split_amount(amount, _order_split(uow, order_id) - recognized)
        provider = row["provider"]
        post(
            uow,
            ledger.capture_posting(
                posting_id=uow.new_id("pst"),
                reference=payment_id,
                method=row["method"],
                split=split,
                provider=provider,
            ),
            **refs,
        )
        if fee_minor > 0:
            assert provider is not None
            post(
                uow,
                ledger.fee_posting(
                    posting_id=uow.new_id("pst"), reference=payment_id, provider=provider, fee_minor=fee_minor
                ),
                **refs,
            )
        after = recognized + split
        extra = {
            "fee_minor": row["fee_minor"] + fee_minor,
            "recognized_revenue_minor": after.revenue_minor,
            "recognized_tax_minor": after.tax_minor,
            "recognized_shipping_minor": after.shipping_minor,
        }
        action = "payment.captured"
    else:  # refunds are booked by _apply_refund
        raise AssertionError(f"unexpected movement {kind}")
    uow.audit(action, "payment", payment_id, order_id=order_id, amount_minor=amount, fee_minor=fee_minor)
    return _save(uow, row, new, **extra)


def _order_split(uow: UnitOfWork, order_id: str) -> ledger.Split:
    """The order's total as revenue (net of discounts), tax and shipping."""
    order = uow.require("orders", order_id, code="order_not_found", what="order")
    tax, shipping = order["tax_minor"], order["shipping_minor"]
    return ledger.Split(order["total_minor"] - tax - shipping, tax, shipping)


def _mark_order_paid(uow: UnitOfWork, row: Row) -> list[dict[str, Any]]:
    """The order is paid: it moves on to picking by itself. Money secured for an order that
    expired or was cancelled meanwhile is given back; returns the provider calls that needs."""
    order = uow.require("orders", row["order_id"], code="order_not_found", what="order")
    if order["status"] == OrderStatus.pending_payment:
        paid = change_order_status(
            uow, order, OrderStatus.paid, reason=f"payment {row['payment_id']}", paid_at=uow.now
        )
        change_order_status(uow, paid, OrderStatus.picking, reason="released to the warehouse")
        # The clickstream's purchase is the server's, at the moment the order counts as paid (BEY-7).
        emit_server_event(
            uow,
            events.server_purchase_event(
                paid, paid["session_id"], uow.now, lines=active_lines(uow, paid["order_id"])
            ),
        )
        return []
    uow.audit(
        "payment.order_not_payable",
        "payment",
        row["payment_id"],
        order_id=row["order_id"],
        order_status=order["status"],
        amount_minor=row["amount_minor"],
    )
    return give_back(uow, order["order_id"], reason=f"order {order['status']} before its payment completed")


def give_back(uow: UnitOfWork, order_id: str, *, reason: str) -> list[dict[str, Any]]:
    """Release every hold and refund every captured amount of an order that will not ship.

    Holds are voided, captured money refunded to where it came from (store
    credit at once). Returns the provider calls staged (void, refund) for the
    caller to send; what is already in flight is left to settle first.
    """
    order = uow.require("orders", order_id, code="order_not_found", what="order")
    requests: list[dict[str, Any]] = []
    for row in sorted(uow.lookup("payments", "order_id", order_id), key=lambda p: p["payment_id"]):
        payment = _payment(row)
        if payment.status in (_S.authorized, _S.partially_captured) and payment.open_minor > 0:
            if not in_flight(uow, row["payment_id"], "capture"):
                op = _insert_operation(uow, row, "void", payment.open_minor)
                requests.append(_follow_up_request("void", op, row, payment.open_minor))
        refundable = (
            payment.captured_minor - payment.refunded_minor - in_flight(uow, row["payment_id"], "refund")
        )
        if refundable > 0:
            _, request = _stage_refund(
                uow,
                row,
                order,
                refundable,
                to_credit=row["method"] == "store_credit",
                reason=reason,
            )
            if request is not None:
                requests.append(request)
    return requests


def cancel_order(uow: UnitOfWork, order_id: str, cmd: CancelOrder) -> dict[str, Any]:
    """Cancel an order (services/orders.py) and give its money back: holds voided, captures refunded.

    ``follow_up`` lists the provider calls to send after the commit.
    """
    view = orders_svc.cancel_order(uow, order_id, cmd)
    return {**view, "follow_up": give_back(uow, order_id, reason=f"order cancelled: {cmd.reason.strip()}")}


def expire_authorizations(uow: UnitOfWork, *, limit: int) -> dict[str, Any]:
    """Close card holds and bank-transfer waits whose time is up (run_due).

    A hold that expires before anything shipped cancels the order and releases
    its stock; one that expires after a partial dispatch releases what is left
    and flags the order for operators (``authorization_expired``). A bank
    transfer still awaiting funds lets its order expire.
    """
    open_orders = {
        OrderStatus.pending_payment.value,
        OrderStatus.paid.value,
        OrderStatus.picking.value,
        OrderStatus.partially_shipped.value,
    }
    due: list[Row] = []
    # Every payment of an open order is in memory; the status index finds the holds directly.
    for status in (_S.authorized, _S.partially_captured, _S.awaiting_funds):
        for row in uow.lookup("payments", "status", status.value):
            if not pay.authorization_due(_payment(row), uow.now) or in_flight(
                uow, row["payment_id"], "capture"
            ):
                continue
            order = uow.get("orders", row["order_id"])
            if order is not None and order["status"] in open_orders:
                due.append(row)
    due.sort(key=lambda r: (r["expires_at"], r["payment_id"]))
    cancelled: list[str] = []
    for row in due[:limit]:
        new, step = pay.expire_authorization(_payment(row), now=uow.now)
        row = _apply(uow, row, new, step, fee_minor=0)
        order = uow.require("orders", row["order_id"], code="order_not_found", what="order")
        if order["status"] == OrderStatus.pending_payment:
            orders_svc.expire_order(uow, order)
        elif order["status"] in (OrderStatus.paid, OrderStatus.picking):
            orders_svc.release_allocations(
                uow,
                order["order_id"],
                uow.lookup("order_allocations", "order_id", order["order_id"]),
                reason="card authorization expired",
            )
            change_order_status(
                uow,
                order,
                OrderStatus.cancelled,
                reason="card authorization expired before dispatch",
                actor=SYSTEM,
                cancelled_at=uow.now,
            )
            cancelled.append(order["order_id"])
        else:
            uow.update(
                "orders", order["order_id"], attention_code="authorization_expired", attention_at=uow.now
            )
        uow.audit("payment.expired", "payment", row["payment_id"], order_id=row["order_id"])
    return {
        "authorizations_expired": min(len(due), limit),
        # Paid orders cancelled because their hold ran out: a sale reversed (DECISIONLOG.md §19).
        "cancelled_order_ids": cancelled,
        "more_due": len(due) > limit,
    }


def _require_customer(order: Row) -> str:
    customer_id = order["customer_id"]
    if customer_id is None:
        raise Invalid(
            "store credit belongs to a customer; a guest order cannot use it",
            code="store_credit_requires_customer",
        )
    return str(customer_id)


def _follow_up_request(kind: str, op: Row, row: Row, amount_minor: int, **extra: Any) -> dict[str, Any]:
    """What the caller sends the provider for a call on an existing payment (capture, void, refund)."""
    return {
        "kind": kind,
        "attempt_id": op["operation_id"],
        "provider_ref": row["provider_ref"],
        "method": row["method"],
        "currency": row["currency"],
        "amount_minor": amount_minor,
        **extra,
    }
