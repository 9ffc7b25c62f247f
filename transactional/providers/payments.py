"""The payment provider interface and the built-in sandbox provider.

``PaymentProvider`` is what the payment services call (outside the writer):
``authorize``, ``capture``, ``void``, ``refund`` and ``lookup``. Each returns a
``ProviderOutcome``: succeeded, pending (a bank transfer awaiting funds),
declined, failed (processing error) or timed_out, with the provider's
reference and, when the call took money, the fee. Store credit is the store's
own money and never reaches a provider.

Card data reaches a provider only as a token plus brand and last 4: requests
have no field for a card number or CVV, and a token holding a run of 13 or
more digits is refused (``invalid_payment_token``), so a PAN cannot be
smuggled in as one.

The sandbox works like Stripe's test mode: no network, no clock, no state.
Every answer is a pure function of the request, so it is the same after a
restart. Test tokens (for every method; a wallet's or bank transfer's client
flow ends with a token too):

| token                       | authorize           | capture   | refund    |
|-----------------------------|---------------------|-----------|-----------|
| tok_sandbox_ok              | succeeds            | succeeds  | succeeds  |
| tok_sandbox_decline         | declined            |           |           |
| tok_sandbox_fail            | failed (processing) |           |           |
| tok_sandbox_timeout         | times out           |           |           |
| tok_sandbox_capture_decline | succeeds            | declined  | succeeds  |
| tok_sandbox_capture_timeout | succeeds            | times out | succeeds  |
| tok_sandbox_refund_fail     | succeeds            | succeeds  | failed    |
| tok_sandbox_refund_timeout  | succeeds            | succeeds  | times out |
| tok_sandbox_no_funds        | as ok, but a bank transfer's funds never arrive |

Any other ``tok_…`` token is declined (``invalid_token``). Voids always succeed.

- Card: authorize places a hold (succeeded, no money taken); captures take it,
  partially if asked, each returning ``capture_fee``.
- Wallets (alipay, wechat_pay) complete at authorize: succeeded with
  ``captured=True`` and the fee. They cannot be captured or voided.
- Bank transfer: authorize answers ``pending`` (transfer instructions issued);
  a ``lookup`` of that authorize request reports the funds as received
  (succeeded, captured, flat fee), except for ``tok_sandbox_no_funds``, which
  stays pending until the store expires it.
- A timed-out call really happened at the provider: ``lookup`` of the same
  request tells its true outcome, derived from the attempt id: succeeded when
  the first byte of SHA-256(attempt_id) is below 192 (about 3 in 4),
  else declined. Any other request's lookup repeats the call's own answer.
- Follow-up calls find the authorization's behaviour in its ``provider_ref``
  (``sbx_<behaviour>_<16 hex>``), as a real provider finds the charge by id.
- ``lookup`` takes the original request: a real adapter uses only its
  ``attempt_id`` (sent as the idempotency key), the stateless sandbox also
  needs the amounts to report the fee.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from transactional.domain.errors import Invalid
from transactional.domain.money import currency_exponent
from transactional.domain.payments import capture_fee, provider_fee
from transactional.domain.words import PAYMENT_METHODS, require_word

CARD_BRANDS: frozenset[str] = frozenset(
    {"visa", "mastercard", "amex", "discover", "jcb", "unionpay", "diners"}
)
PROVIDER_METHODS: frozenset[str] = PAYMENT_METHODS - {"store_credit"}
WALLETS: frozenset[str] = frozenset({"alipay", "wechat_pay"})

_TOKEN_RE = re.compile(r"tok_[A-Za-z0-9_]{1,96}")
_PAN_LIKE_RE = re.compile(r"\d{13,}")
_LAST4_RE = re.compile(r"\d{4}")


class OutcomeStatus(StrEnum):
    succeeded = "succeeded"
    pending = "pending"
    declined = "declined"
    failed = "failed"
    timed_out = "timed_out"


@dataclass(frozen=True, slots=True)
class PaymentSource:
    """How the customer pays: a provider token, plus brand and last 4 for a card."""

    token: str
    card_brand: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    attempt_id: str
    method: str
    currency: str
    amount_minor: int
    source: PaymentSource


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    """``captured_before_minor`` is what the store already captured on this authorization."""

    attempt_id: str
    provider_ref: str
    method: str
    currency: str
    amount_minor: int
    captured_before_minor: int = 0


@dataclass(frozen=True, slots=True)
class VoidRequest:
    attempt_id: str
    provider_ref: str
    method: str
    currency: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class RefundRequest:
    attempt_id: str
    provider_ref: str
    method: str
    currency: str
    amount_minor: int


ProviderRequest = AuthorizeRequest | CaptureRequest | VoidRequest | RefundRequest


@dataclass(frozen=True, slots=True)
class ProviderOutcome:
    """The provider's answer. ``captured`` says this call took the money (a card
    capture, a wallet payment, a bank transfer's funds); ``fee_minor`` comes with it."""

    status: OutcomeStatus
    attempt_id: str
    provider_ref: str | None
    amount_minor: int
    captured: bool = False
    fee_minor: int = 0
    error_code: str | None = None

    @property
    def is_final(self) -> bool:
        """False while the store must ask again (timed out, or funds still awaited)."""
        return self.status not in (OutcomeStatus.timed_out, OutcomeStatus.pending)


class PaymentProvider(Protocol):
    """A payment provider adapter. Calls may be slow: never make them inside the writer.

    ``lookup`` answers what became of an earlier request (by its attempt id);
    it may itself time out, and the reconciler then asks again later.
    """

    @property
    def name(self) -> str: ...

    def authorize(self, request: AuthorizeRequest) -> ProviderOutcome: ...

    def capture(self, request: CaptureRequest) -> ProviderOutcome: ...

    def void(self, request: VoidRequest) -> ProviderOutcome: ...

    def refund(self, request: RefundRequest) -> ProviderOutcome: ...

    def lookup(self, request: ProviderRequest) -> ProviderOutcome: ...


# token → behaviour code carried in the authorization's provider_ref
SANDBOX_TOKENS: Mapping[str, str] = MappingProxyType(
    {
        "tok_sandbox_ok": "ok",
        "tok_sandbox_decline": "decline",
        "tok_sandbox_fail": "fail",
        "tok_sandbox_timeout": "timeout",
        "tok_sandbox_capture_decline": "capdecline",
        "tok_sandbox_capture_timeout": "captimeout",
        "tok_sandbox_refund_fail": "refundfail",
        "tok_sandbox_refund_timeout": "reftimeout",
        "tok_sandbox_no_funds": "nofunds",
    }
)
_REF_RE = re.compile(r"sbx_([a-z]+)_([0-9a-f]{16})")
_AUTHORIZED_BEHAVIOURS = frozenset({"ok", "capdecline", "captimeout", "refundfail", "reftimeout", "nofunds"})


def _digest(attempt_id: str) -> bytes:
    return hashlib.sha256(attempt_id.encode()).digest()


def timeout_resolves_to(attempt_id: str) -> OutcomeStatus:
    """The true outcome of a sandbox call that timed out (module docstring)."""
    return OutcomeStatus.succeeded if _digest(attempt_id)[0] < 192 else OutcomeStatus.declined


def _require_common(attempt_id: str, method: str, currency: str, amount_minor: int) -> int:
    if not (isinstance(attempt_id, str) and attempt_id):
        raise Invalid("a provider request needs an attempt id", code="invalid_attempt_id")
    require_word("payment_method", method, PAYMENT_METHODS)
    if method not in PROVIDER_METHODS:
        raise Invalid(f"{method} payments never reach a provider", code="unsupported_payment_method")
    exponent = currency_exponent(currency)
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise Invalid(
            f"amount must be a positive int of minor units, got {amount_minor!r}", code="invalid_amount"
        )
    return exponent


def validate_source(method: str, source: PaymentSource) -> PaymentSource:
    """A token always; brand and last 4 for a card and only for a card."""
    token = source.token
    if not (isinstance(token, str) and _TOKEN_RE.fullmatch(token)) or _PAN_LIKE_RE.search(token):
        # Never echo the value: it might be card data sent by mistake.
        raise Invalid(
            "payment token must look like tok_… and hold no card number", code="invalid_payment_token"
        )
    if method == "card":
        if source.card_brand not in CARD_BRANDS:
            raise Invalid(
                f"card brand must be one of {', '.join(sorted(CARD_BRANDS))}", code="invalid_card_details"
            )
        if not (isinstance(source.card_last4, str) and _LAST4_RE.fullmatch(source.card_last4)):
            raise Invalid("card last 4 must be exactly four digits", code="invalid_card_details")
    elif source.card_brand is not None or source.card_last4 is not None:
        raise Invalid(f"a {method} payment carries no card details", code="invalid_card_details")
    return source


class SandboxProvider:
    """Deterministic test provider (rules and test tokens in the module docstring)."""

    name = "sandbox"

    # -- calls -------------------------------------------------------------

    def authorize(self, request: AuthorizeRequest) -> ProviderOutcome:
        return self._authorize(request, looked_up=False)

    def capture(self, request: CaptureRequest) -> ProviderOutcome:
        return self._capture(request, looked_up=False)

    def void(self, request: VoidRequest) -> ProviderOutcome:
        _require_common(request.attempt_id, request.method, request.currency, request.amount_minor)
        if request.method != "card":
            raise Invalid(f"a {request.method} payment cannot be voided", code="unsupported_operation")
        behaviour = self._behaviour(request.provider_ref)
        if behaviour is None:
            return self._declined(request.attempt_id, request.amount_minor, "invalid_reference")
        return self._succeeded(request.attempt_id, "void", request.amount_minor)

    def refund(self, request: RefundRequest) -> ProviderOutcome:
        return self._refund(request, looked_up=False)

    def lookup(self, request: ProviderRequest) -> ProviderOutcome:
        if isinstance(request, AuthorizeRequest):
            return self._authorize(request, looked_up=True)
        if isinstance(request, CaptureRequest):
            return self._capture(request, looked_up=True)
        if isinstance(request, VoidRequest):
            return self.void(request)
        return self._refund(request, looked_up=True)

    # -- behaviour ---------------------------------------------------------

    def _authorize(self, request: AuthorizeRequest, *, looked_up: bool) -> ProviderOutcome:
        exponent = _require_common(request.attempt_id, request.method, request.currency, request.amount_minor)
        validate_source(request.method, request.source)
        attempt_id, amount, method = request.attempt_id, request.amount_minor, request.method
        behaviour = SANDBOX_TOKENS.get(request.source.token)
        if behaviour is None:
            return self._declined(attempt_id, amount, "invalid_token")
        if behaviour == "timeout":
            if not looked_up:
                return ProviderOutcome(
                    OutcomeStatus.timed_out, attempt_id, None, amount, error_code="timeout"
                )
            if timeout_resolves_to(attempt_id) is OutcomeStatus.declined:
                return self._declined(attempt_id, amount, _decline_code(method))
            # The call went through: from here on it behaves like tok_sandbox_ok.
            behaviour = "ok"
        if behaviour == "decline":
            return self._declined(attempt_id, amount, _decline_code(method))
        if behaviour == "fail":
            return self._failed(attempt_id, amount)
        assert behaviour in _AUTHORIZED_BEHAVIOURS
        ref = f"sbx_{behaviour}_{_digest(attempt_id).hex()[:16]}"
        if method in WALLETS:
            fee = provider_fee(method, amount, exponent)
            return ProviderOutcome(
                OutcomeStatus.succeeded, attempt_id, ref, amount, captured=True, fee_minor=fee
            )
        if method == "bank_transfer":
            if looked_up and behaviour != "nofunds":
                fee = provider_fee(method, amount, exponent)
                return ProviderOutcome(
                    OutcomeStatus.succeeded, attempt_id, ref, amount, captured=True, fee_minor=fee
                )
            return ProviderOutcome(OutcomeStatus.pending, attempt_id, ref, amount)
        return ProviderOutcome(OutcomeStatus.succeeded, attempt_id, ref, amount)

    def _capture(self, request: CaptureRequest, *, looked_up: bool) -> ProviderOutcome:
        exponent = _require_common(request.attempt_id, request.method, request.currency, request.amount_minor)
        if request.method != "card":
            raise Invalid(
                f"a {request.method} payment is captured when it completes, not by a capture call",
                code="unsupported_operation",
            )
        attempt_id, amount = request.attempt_id, request.amount_minor
        behaviour = self._behaviour(request.provider_ref)
        if behaviour is None:
            return self._declined(attempt_id, amount, "invalid_reference")
        if behaviour == "capdecline":
            return self._declined(attempt_id, amount, "card_declined")
        if behaviour == "captimeout":
            if not looked_up:
                return ProviderOutcome(
                    OutcomeStatus.timed_out, attempt_id, None, amount, error_code="timeout"
                )
            if timeout_resolves_to(attempt_id) is OutcomeStatus.declined:
                return self._declined(attempt_id, amount, "card_declined")
        fee = capture_fee(request.method, request.captured_before_minor, amount, exponent)
        ref = f"sbx_cap_{_digest(attempt_id).hex()[:16]}"
        return ProviderOutcome(OutcomeStatus.succeeded, attempt_id, ref, amount, captured=True, fee_minor=fee)

    def _refund(self, request: RefundRequest, *, looked_up: bool) -> ProviderOutcome:
        _require_common(request.attempt_id, request.method, request.currency, request.amount_minor)
        attempt_id, amount = request.attempt_id, request.amount_minor
        behaviour = self._behaviour(request.provider_ref)
        if behaviour is None:
            return self._declined(attempt_id, amount, "invalid_reference")
        if behaviour == "refundfail":
            return self._failed(attempt_id, amount)
        if behaviour == "reftimeout":
            if not looked_up:
                return ProviderOutcome(
                    OutcomeStatus.timed_out, attempt_id, None, amount, error_code="timeout"
                )
            if timeout_resolves_to(attempt_id) is OutcomeStatus.declined:
                return self._declined(attempt_id, amount, "refund_declined")
        return self._succeeded(attempt_id, "re", amount)

    @staticmethod
    def _behaviour(provider_ref: str) -> str | None:
        match = _REF_RE.fullmatch(provider_ref) if isinstance(provider_ref, str) else None
        if match is None or match.group(1) not in _AUTHORIZED_BEHAVIOURS:
            return None
        return match.group(1)

    @staticmethod
    def _succeeded(attempt_id: str, prefix: str, amount: int) -> ProviderOutcome:
        ref = f"sbx_{prefix}_{_digest(attempt_id).hex()[:16]}"
        return ProviderOutcome(OutcomeStatus.succeeded, attempt_id, ref, amount)

    @staticmethod
    def _declined(attempt_id: str, amount: int, code: str) -> ProviderOutcome:
        return ProviderOutcome(OutcomeStatus.declined, attempt_id, None, amount, error_code=code)

    @staticmethod
    def _failed(attempt_id: str, amount: int) -> ProviderOutcome:
        return ProviderOutcome(OutcomeStatus.failed, attempt_id, None, amount, error_code="processing_error")


def _decline_code(method: str) -> str:
    return "card_declined" if method == "card" else "payment_declined"
