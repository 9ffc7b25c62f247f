"""Payments (PAY-1, PAY-3, PAY-4): the Payment aggregate, its state machine and fees.

A ``Payment`` is one attempt to pay one order with one method; a failed
attempt stays as it is and the next attempt is a new Payment. Every function
below is pure: it takes a Payment and returns the new Payment together with
the money movement the step implies (``None`` when no money moves), which the
ledger turns into a posting.

Rules (copied into DECISIONLOG.md):

- Methods: card, alipay, wechat_pay, bank_transfer, store_credit. Amounts are
  positive int minor units of the payment's currency; the whole requested
  amount is authorized or nothing (partial authorizations are not supported).
- A payment starts ``pending`` (committed before the provider is called). The
  provider's answer moves it on: a card to ``authorized`` (a hold, captured
  later, possibly in several partial captures, one per shipment); a wallet
  (alipay, wechat_pay) or store credit to ``captured`` at once (authorized and
  captured in one step: "completed"); a bank transfer to ``awaiting_funds``
  until ``funds_received`` captures it. Store credit never reaches a
  provider: the service draws the balance down (``store_credit.draw_down``)
  and authorizes in the same command. A decline or processing error is
  ``failed``; a timeout is ``unknown`` until the reconciler learns the truth
  and applies ``authorize`` or ``fail``.
- ``captured + voided <= authorized <= amount`` and ``refunded <= captured``
  always. Capture only from ``authorized``/``partially_captured``
  (else ``payment_not_capturable``), at most the open hold
  (``capture_exceeds_authorized``). Void releases the uncaptured remainder
  only. Refund at most captured − refunded (``refund_exceeds_captured``).
- Authorizations expire: a card hold 7 days after authorization, a bank
  transfer's wait for funds 14 days after it was accepted. Expiry releases the
  open hold (the part already captured stays captured).
- After a capture, void, expiry or refund the status follows the amounts: an
  open hold → ``authorized`` (nothing captured) or ``partially_captured``;
  no open hold → ``captured``, ``partially_refunded`` or ``refunded`` (or
  ``voided``/``expired`` when nothing was ever captured).
- A capture or refund call that times out does not touch the Payment: the
  service keeps that call as unknown and applies ``capture``/``refund`` once
  the reconciler learns it succeeded. ``check_capture``/``check_refund`` count
  such in-flight amounts so that concurrent requests can never overdraw.
- Paid (DESIGN.md): a payment secures its order when a card is authorized, a
  wallet or store-credit payment is completed, a bank transfer's funds are
  received: ``is_paid`` is true from then on, refunds included, and false for
  pending, unknown, awaiting_funds, failed, voided and expired payments.
- Fees are charged per payment, rounded half up once: ``round_half_up(amount ×
  percent + fixed × 10^exponent)`` with card 2.9 % + 0.30, alipay and
  wechat_pay 0.6 %, bank_transfer a flat 1.00, store_credit nothing (the fixed
  parts are in major units, so USD 0.30 is 30 cents, JPY 0.30 rounds to 0 yen).
  A payment captured in parts is charged ``fee(Σ captured)`` in total: each
  capture carries ``fee(after) − fee(before)``. Fees are not returned on refunds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from transactional.domain.errors import Conflict, IllegalTransition, Invalid
from transactional.domain.money import currency_exponent, div_round_half_up, rate_ratio
from transactional.domain.words import PAYMENT_METHODS, require_word


class PaymentStatus(StrEnum):
    pending = "pending"
    unknown = "unknown"
    awaiting_funds = "awaiting_funds"
    authorized = "authorized"
    partially_captured = "partially_captured"
    captured = "captured"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    voided = "voided"
    expired = "expired"
    failed = "failed"


_S = PaymentStatus

INITIAL_STATUS = _S.pending

TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = MappingProxyType(
    {
        _S.pending: frozenset({_S.authorized, _S.captured, _S.awaiting_funds, _S.failed, _S.unknown}),
        # The reconciler resolves a timeout to the outcome the provider reports.
        _S.unknown: frozenset({_S.authorized, _S.captured, _S.awaiting_funds, _S.failed}),
        _S.awaiting_funds: frozenset({_S.captured, _S.expired}),
        _S.authorized: frozenset({_S.partially_captured, _S.captured, _S.voided, _S.expired}),
        # Self-loop: a further partial capture, or a refund while a hold is still open.
        # Closing the hold (last capture, void, expiry) lands where the refunds say.
        _S.partially_captured: frozenset(
            {_S.partially_captured, _S.captured, _S.partially_refunded, _S.refunded}
        ),
        _S.captured: frozenset({_S.partially_refunded, _S.refunded}),
        _S.partially_refunded: frozenset({_S.partially_refunded, _S.refunded}),
        _S.refunded: frozenset(),
        _S.voided: frozenset(),
        _S.expired: frozenset(),
        _S.failed: frozenset(),
    }
)

TERMINAL: frozenset[PaymentStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
PAID_STATUSES: frozenset[PaymentStatus] = frozenset(
    {_S.authorized, _S.partially_captured, _S.captured, _S.partially_refunded, _S.refunded}
)
_AUTHORIZABLE = frozenset({_S.pending, _S.unknown})
_OPEN_HOLD = frozenset({_S.authorized, _S.partially_captured})
_REFUNDABLE = frozenset({_S.partially_captured, _S.captured, _S.partially_refunded, _S.refunded})

# Methods whose successful authorization takes the money at once.
COMPLETES_AT_ONCE: frozenset[str] = frozenset({"alipay", "wechat_pay", "store_credit"})

# Card networks hold an authorization for about a week (Stripe's default for
# online payments is 7 days); a bank transfer gives the buyer longer to pay.
AUTHORIZATION_TTL: Mapping[str, timedelta] = MappingProxyType(
    {"card": timedelta(days=7), "bank_transfer": timedelta(days=14)}
)


class MovementKind(StrEnum):
    hold = "hold"  # a card authorization: funds reserved on the customer's card
    release = "release"  # the uncaptured remainder of a hold given back (void or expiry)
    capture = "capture"  # money taken from the customer
    refund = "refund"  # money given back


@dataclass(frozen=True, slots=True)
class PaymentMovement:
    kind: MovementKind
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment attempt; ``voided_minor`` is the part of the hold released (void or expiry)."""

    payment_id: str
    order_id: str
    method: str
    currency: str
    amount_minor: int
    status: PaymentStatus = INITIAL_STATUS
    authorized_minor: int = 0
    captured_minor: int = 0
    refunded_minor: int = 0
    voided_minor: int = 0
    expires_at: datetime | None = None
    provider_ref: str | None = None
    failure_code: str | None = None

    def __post_init__(self) -> None:
        # A broken invariant here is a bug in this module, not bad input.
        if not (
            0 <= self.captured_minor
            and 0 <= self.voided_minor
            and self.captured_minor + self.voided_minor <= self.authorized_minor <= self.amount_minor
            and 0 <= self.refunded_minor <= self.captured_minor
        ):
            raise ValueError(f"payment amounts out of order: {self!r}")

    @property
    def open_minor(self) -> int:
        """The authorized amount still held and capturable."""
        return self.authorized_minor - self.captured_minor - self.voided_minor

    @property
    def refundable_minor(self) -> int:
        return self.captured_minor - self.refunded_minor


Step = tuple[Payment, PaymentMovement | None]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_amount(amount: int) -> None:
    if not (_is_int(amount) and amount > 0):
        raise Invalid(f"amount must be a positive int of minor units, got {amount!r}", code="invalid_amount")


def _require_aware(instant: datetime, name: str) -> None:
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _move(payment: Payment, target: PaymentStatus, **changes: Any) -> Payment:
    if target not in TRANSITIONS[payment.status]:
        raise IllegalTransition(
            f"cannot move payment {payment.payment_id} from {payment.status} to {target}",
            current=str(payment.status),
            target=str(target),
        )
    return replace(payment, status=target, **changes)


def _status_from_amounts(authorized: int, captured: int, voided: int, refunded: int) -> PaymentStatus:
    """The status of a secured payment once its amounts are known (see module rules)."""
    if authorized - captured - voided > 0:
        return _S.authorized if captured == 0 else _S.partially_captured
    if refunded == 0:
        return _S.captured
    return _S.partially_refunded if refunded < captured else _S.refunded


def check_currency(currency: str, store_currency: str) -> str:
    """``currency`` if it is the store's, else Invalid ``currency_mismatch``."""
    currency_exponent(currency)
    if currency != store_currency:
        raise Invalid(
            f"payment currency {currency} does not match the store currency {store_currency}",
            code="currency_mismatch",
        )
    return currency


def new_payment(payment_id: str, order_id: str, method: str, currency: str, amount_minor: int) -> Payment:
    """A pending payment attempt, checked: known method and currency, positive amount."""
    require_word("payment_method", method, PAYMENT_METHODS)
    currency_exponent(currency)
    _require_amount(amount_minor)
    return Payment(payment_id, order_id, method, currency, amount_minor)


def authorize(payment: Payment, *, at: datetime, provider_ref: str | None = None) -> Step:
    """Apply the provider's success: card → authorized (hold), wallet or store credit →
    captured at once, bank transfer → awaiting funds. ``at`` starts the expiry clock."""
    _require_aware(at, "at")
    if payment.status not in _AUTHORIZABLE:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; only a pending or unknown attempt "
            "can be authorized",
            code="payment_not_authorizable",
        )
    amount = payment.amount_minor
    if payment.method == "card":
        new = _move(
            payment,
            _S.authorized,
            authorized_minor=amount,
            expires_at=at + AUTHORIZATION_TTL["card"],
            provider_ref=provider_ref,
        )
        return new, PaymentMovement(MovementKind.hold, amount)
    if payment.method == "bank_transfer":
        new = _move(
            payment,
            _S.awaiting_funds,
            expires_at=at + AUTHORIZATION_TTL["bank_transfer"],
            provider_ref=provider_ref,
        )
        return new, None
    new = _move(
        payment, _S.captured, authorized_minor=amount, captured_minor=amount, provider_ref=provider_ref
    )
    return new, PaymentMovement(MovementKind.capture, amount)


def fail(payment: Payment, *, code: str) -> Step:
    """The provider declined or could not process the attempt (``code`` says which)."""
    if not (isinstance(code, str) and code):
        raise ValueError("a failure needs a code")
    if payment.status not in _AUTHORIZABLE:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; only a pending or unknown attempt can fail",
            code="payment_not_pending",
        )
    return _move(payment, _S.failed, failure_code=code), None


def mark_unknown(payment: Payment) -> Step:
    """The provider call timed out: the outcome is unknown until the reconciler asks."""
    if payment.status is not _S.pending:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; only a pending attempt can become unknown",
            code="payment_not_pending",
        )
    return _move(payment, _S.unknown), None


def check_capture(payment: Payment, amount_minor: int, *, in_flight_minor: int = 0) -> None:
    """Raise what ``capture`` would, counting captures already sent to the provider."""
    _require_amount(amount_minor)
    if payment.status not in _OPEN_HOLD:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; only an authorized payment can be captured",
            code="payment_not_capturable",
        )
    available = payment.open_minor - in_flight_minor
    if amount_minor > available:
        raise Invalid(
            f"capture of {amount_minor} exceeds the {available} still authorized",
            code="capture_exceeds_authorized",
            requested=amount_minor,
            capturable=available,
        )


def capture(payment: Payment, amount_minor: int) -> Step:
    """Take ``amount_minor`` of the open hold (partial captures allowed)."""
    check_capture(payment, amount_minor)
    captured = payment.captured_minor + amount_minor
    status = _status_from_amounts(
        payment.authorized_minor, captured, payment.voided_minor, payment.refunded_minor
    )
    new = _move(payment, status, captured_minor=captured)
    return new, PaymentMovement(MovementKind.capture, amount_minor)


def _release(payment: Payment, closed: PaymentStatus) -> Step:
    released = payment.open_minor
    voided = payment.voided_minor + released
    if payment.captured_minor == 0:
        status = closed
    else:
        status = _status_from_amounts(
            payment.authorized_minor, payment.captured_minor, voided, payment.refunded_minor
        )
    new = _move(payment, status, voided_minor=voided, expires_at=None)
    return new, PaymentMovement(MovementKind.release, released)


def void(payment: Payment) -> Step:
    """Release the uncaptured remainder of a card hold; what was captured stays captured."""
    if payment.status not in _OPEN_HOLD:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; only an open authorization can be voided",
            code="payment_not_voidable",
        )
    return _release(payment, _S.voided)


def authorization_due(payment: Payment, now: datetime) -> bool:
    """True when the payment holds or awaits money and its expiry has come."""
    _require_aware(now, "now")
    return (
        payment.status in _OPEN_HOLD | {_S.awaiting_funds}
        and payment.expires_at is not None
        and now >= payment.expires_at
    )


def expire_authorization(payment: Payment, *, now: datetime) -> Step:
    """Close an authorization or a bank transfer's wait for funds whose time is up."""
    _require_aware(now, "now")
    if payment.status not in _OPEN_HOLD | {_S.awaiting_funds}:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; nothing is held or awaited",
            code="payment_not_expirable",
        )
    if not authorization_due(payment, now):
        raise Conflict(
            f"payment {payment.payment_id} does not expire before {payment.expires_at}",
            code="authorization_not_expired",
        )
    if payment.status is _S.awaiting_funds:
        return _move(payment, _S.expired, expires_at=None), None
    return _release(payment, _S.expired)


def funds_received(payment: Payment, amount_minor: int) -> Step:
    """A bank transfer's funds arrived: the payment is captured in full."""
    _require_amount(amount_minor)
    if payment.status is not _S.awaiting_funds:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; it is not awaiting funds",
            code="payment_not_awaiting_funds",
        )
    if amount_minor != payment.amount_minor:
        # Under- or overpayments are settled by hand, not guessed at here.
        raise Invalid(
            f"received {amount_minor}, expected {payment.amount_minor}",
            code="funds_amount_mismatch",
        )
    new = _move(
        payment,
        _S.captured,
        authorized_minor=amount_minor,
        captured_minor=amount_minor,
        expires_at=None,
    )
    return new, PaymentMovement(MovementKind.capture, amount_minor)


def check_refund(payment: Payment, amount_minor: int, *, in_flight_minor: int = 0) -> None:
    """Raise what ``refund`` would, counting refunds already sent to the provider."""
    _require_amount(amount_minor)
    if payment.status not in _REFUNDABLE:
        raise IllegalTransition(
            f"payment {payment.payment_id} is {payment.status}; nothing was captured to refund",
            code="payment_not_refundable",
        )
    available = payment.refundable_minor - in_flight_minor
    if amount_minor > available:
        raise Invalid(
            f"refund of {amount_minor} exceeds the {available} captured and not yet refunded",
            code="refund_exceeds_captured",
            requested=amount_minor,
            refundable=available,
        )


def refund(payment: Payment, amount_minor: int) -> Step:
    """Give back ``amount_minor`` of what was captured (full or partial)."""
    check_refund(payment, amount_minor)
    refunded = payment.refunded_minor + amount_minor
    status = _status_from_amounts(
        payment.authorized_minor, payment.captured_minor, payment.voided_minor, refunded
    )
    new = _move(payment, status, refunded_minor=refunded)
    return new, PaymentMovement(MovementKind.refund, amount_minor)


def is_paid(payment: Payment) -> bool:
    """True once the payment secured its order (module rules)."""
    return payment.status in PAID_STATUSES


@dataclass(frozen=True, slots=True)
class FeeRule:
    """``percent`` is a Decimal fraction; ``fixed_major`` is in major units of the currency."""

    percent: Decimal
    fixed_major: Decimal


FEE_RULES: Mapping[str, FeeRule] = MappingProxyType(
    {
        "card": FeeRule(Decimal("0.029"), Decimal("0.30")),
        "alipay": FeeRule(Decimal("0.006"), Decimal("0")),
        "wechat_pay": FeeRule(Decimal("0.006"), Decimal("0")),
        "bank_transfer": FeeRule(Decimal("0"), Decimal("1.00")),
        "store_credit": FeeRule(Decimal("0"), Decimal("0")),
    }
)


def provider_fee(method: str, amount_minor: int, currency_exponent: int) -> int:
    """The fee for a payment of ``amount_minor`` (0 → 0), rounded half up once."""
    require_word("payment_method", method, PAYMENT_METHODS)
    if not (_is_int(amount_minor) and amount_minor >= 0):
        raise Invalid(f"amount must be an int >= 0, got {amount_minor!r}", code="invalid_amount")
    if not (_is_int(currency_exponent) and currency_exponent >= 0):
        raise ValueError(f"currency exponent must be an int >= 0, got {currency_exponent!r}")
    if amount_minor == 0:
        return 0
    rule = FEE_RULES[method]
    pn, pd = rate_ratio(rule.percent)
    fn, fd = rate_ratio(rule.fixed_major)
    # amount × p + 10^e × f over a common denominator: one rounding for the whole fee.
    numerator = amount_minor * pn * fd + 10**currency_exponent * fn * pd
    return div_round_half_up(numerator, pd * fd)


def capture_fee(method: str, captured_before_minor: int, amount_minor: int, currency_exponent: int) -> int:
    """The fee a capture of ``amount_minor`` carries after ``captured_before_minor`` was captured.

    Incremental, so the captures of one payment add up to ``provider_fee`` of
    their sum and the fixed part is charged once; never negative, since the
    fee grows with the amount.
    """
    if not (_is_int(captured_before_minor) and captured_before_minor >= 0):
        raise Invalid(
            f"captured amount must be an int >= 0, got {captured_before_minor!r}", code="invalid_amount"
        )
    _require_amount(amount_minor)
    after = provider_fee(method, captured_before_minor + amount_minor, currency_exponent)
    return after - provider_fee(method, captured_before_minor, currency_exponent)


def shipment_capture_minor(
    *,
    line_totals: Mapping[str, int],
    ordered: Mapping[str, int],
    shipped_after: Mapping[str, int],
    shipping_minor: int,
    authorized_minor: int,
    captured_or_in_flight_minor: int,
    fully_shipped: bool,
) -> int:
    """What to capture of a card authorization when a shipment leaves (a partial capture per parcel).

    Captures follow the goods: after a shipment, the order's cumulative due is
    the shipping fee plus, per line, ``floor(line total × units shipped so far
    ÷ units ordered)``; the shipment that completes the order takes whatever
    of the authorization is left, so rounding leftovers end up captured and the
    captures of a fully shipped order add up to its total. The result is the
    due minus what was already captured or is being captured, never below 0.
    """
    if fully_shipped:
        due = authorized_minor
    else:
        due = shipping_minor + sum(
            line_totals[line_id] * shipped_after.get(line_id, 0) // units
            for line_id, units in ordered.items()
            if units > 0
        )
    return max(0, min(due, authorized_minor) - captured_or_in_flight_minor)
