from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain import ledger, payments
from transactional.domain.errors import Invalid
from transactional.domain.ledger import Account, Split, split_amount
from transactional.domain.payments import PaymentStatus, capture_fee, provider_fee
from transactional.providers.payments import (
    SANDBOX_TOKENS,
    AuthorizeRequest,
    CaptureRequest,
    OutcomeStatus,
    PaymentProvider,
    PaymentSource,
    ProviderOutcome,
    RefundRequest,
    SandboxProvider,
    VoidRequest,
    timeout_resolves_to,
)

OS = OutcomeStatus
CARD = PaymentSource("tok_sandbox_ok", "visa", "4242")
T0 = datetime(2025, 3, 1, tzinfo=UTC)
# att_0 resolves to succeeded and att_1 to declined (first byte of SHA-256 below 192 or not).
SUCCEEDS, DECLINES = "att_0", "att_1"


@pytest.fixture
def sandbox() -> PaymentProvider:
    return SandboxProvider()


def card(token="tok_sandbox_ok", amount=10_000, attempt=SUCCEEDS, currency="USD") -> AuthorizeRequest:
    return AuthorizeRequest(attempt, "card", currency, amount, PaymentSource(token, "visa", "4242"))


def source_for(method: str, token: str) -> PaymentSource:
    return PaymentSource(token, "visa", "4242") if method == "card" else PaymentSource(token)


def test_sandbox_is_a_payment_provider(sandbox):
    assert isinstance(sandbox.name, str) and sandbox.name == "sandbox"


def test_timeout_outcome_is_derived_from_the_attempt_id():
    assert timeout_resolves_to(SUCCEEDS) is OS.succeeded
    assert timeout_resolves_to(DECLINES) is OS.declined
    assert {timeout_resolves_to(f"att_{i}") for i in range(20)} == {OS.succeeded, OS.declined}


# -- authorize ------------------------------------------------------------------------


def test_card_tokens(sandbox):
    ok = sandbox.authorize(card())
    assert (ok.status, ok.captured, ok.fee_minor, ok.amount_minor) == (OS.succeeded, False, 0, 10_000)
    assert ok.provider_ref and ok.provider_ref.startswith("sbx_ok_") and ok.is_final

    declined = sandbox.authorize(card("tok_sandbox_decline"))
    assert (declined.status, declined.error_code, declined.provider_ref) == (
        OS.declined,
        "card_declined",
        None,
    )
    failed = sandbox.authorize(card("tok_sandbox_fail"))
    assert (failed.status, failed.error_code) == (OS.failed, "processing_error")
    unknown = sandbox.authorize(card("tok_sandbox_nonsense"))
    assert (unknown.status, unknown.error_code) == (OS.declined, "invalid_token")


def test_timeout_then_lookup_tells_the_truth(sandbox):
    request = card("tok_sandbox_timeout", attempt=SUCCEEDS)
    first = sandbox.authorize(request)
    assert (first.status, first.provider_ref, first.is_final) == (OS.timed_out, None, False)
    truth = sandbox.lookup(request)
    assert truth.status is OS.succeeded and truth.provider_ref
    # The authorization that went through behaves like tok_sandbox_ok afterwards.
    cap = sandbox.capture(CaptureRequest("att_c", truth.provider_ref, "card", "USD", 10_000))
    assert cap.status is OS.succeeded

    declined = sandbox.lookup(card("tok_sandbox_timeout", attempt=DECLINES))
    assert (declined.status, declined.error_code) == (OS.declined, "card_declined")


def test_answers_are_stateless_and_repeatable(sandbox):
    for token in SANDBOX_TOKENS:
        request = card(token)
        assert sandbox.authorize(request) == SandboxProvider().authorize(request)
        if token != "tok_sandbox_timeout":
            assert sandbox.lookup(request) == sandbox.authorize(request)


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_wallets_complete_at_once_with_their_fee(sandbox, method):
    out = sandbox.authorize(AuthorizeRequest("att_w", method, "JPY", 12_345, PaymentSource("tok_sandbox_ok")))
    assert (out.status, out.captured) == (OS.succeeded, True)
    assert out.fee_minor == provider_fee(method, 12_345, 0) == 74  # 0.6 % of 12,345 = 74.07
    declined = sandbox.authorize(
        AuthorizeRequest("att_w", method, "JPY", 100, PaymentSource("tok_sandbox_decline"))
    )
    assert (declined.status, declined.error_code) == (OS.declined, "payment_declined")
    with pytest.raises(Invalid) as err:
        sandbox.capture(CaptureRequest("att_c", out.provider_ref, method, "JPY", 100))
    assert err.value.code == "unsupported_operation"
    with pytest.raises(Invalid) as err:
        sandbox.void(VoidRequest("att_v", out.provider_ref, method, "JPY", 100))
    assert err.value.code == "unsupported_operation"


def test_bank_transfer_waits_for_funds(sandbox):
    request = AuthorizeRequest("att_b", "bank_transfer", "USD", 50_000, PaymentSource("tok_sandbox_ok"))
    out = sandbox.authorize(request)
    assert (out.status, out.captured, out.is_final) == (OS.pending, False, False)
    arrived = sandbox.lookup(request)
    assert (arrived.status, arrived.captured, arrived.fee_minor) == (OS.succeeded, True, 100)
    assert arrived.provider_ref == out.provider_ref

    never = AuthorizeRequest("att_n", "bank_transfer", "USD", 50_000, PaymentSource("tok_sandbox_no_funds"))
    assert sandbox.authorize(never).status is OS.pending
    assert sandbox.lookup(never).status is OS.pending


def test_no_funds_token_is_ok_for_other_methods(sandbox):
    assert sandbox.authorize(card("tok_sandbox_no_funds")).status is OS.succeeded


# -- capture, void, refund ---------------------------------------------------------------


def test_partial_captures_carry_incremental_fees(sandbox):
    ref = sandbox.authorize(card()).provider_ref
    first = sandbox.capture(CaptureRequest("att_c1", ref, "card", "USD", 4_000))
    second = sandbox.capture(CaptureRequest("att_c2", ref, "card", "USD", 6_000, captured_before_minor=4_000))
    assert (first.status, first.captured, first.fee_minor) == (OS.succeeded, True, 146)
    assert (second.status, second.fee_minor) == (OS.succeeded, 174)
    assert first.fee_minor + second.fee_minor == provider_fee("card", 10_000, 2) == 320


def test_capture_decline_and_timeout(sandbox):
    ref = sandbox.authorize(card("tok_sandbox_capture_decline")).provider_ref
    assert ref is not None
    out = sandbox.capture(CaptureRequest("att_c", ref, "card", "USD", 10_000))
    assert (out.status, out.error_code, out.fee_minor) == (OS.declined, "card_declined", 0)
    assert sandbox.void(VoidRequest("att_v", ref, "card", "USD", 10_000)).status is OS.succeeded

    ref = sandbox.authorize(card("tok_sandbox_capture_timeout")).provider_ref
    assert ref is not None
    ok = CaptureRequest(SUCCEEDS, ref, "card", "USD", 10_000)
    assert sandbox.capture(ok).status is OS.timed_out
    truth = sandbox.lookup(ok)
    assert (truth.status, truth.captured, truth.fee_minor) == (OS.succeeded, True, 320)
    bad = CaptureRequest(DECLINES, ref, "card", "USD", 10_000)
    assert sandbox.capture(bad).status is OS.timed_out
    assert sandbox.lookup(bad).status is OS.declined


def test_refunds(sandbox):
    ref = sandbox.authorize(card()).provider_ref
    assert ref is not None
    out = sandbox.refund(RefundRequest("att_r", ref, "card", "USD", 2_500))
    assert (out.status, out.fee_minor, out.captured) == (OS.succeeded, 0, False)
    assert sandbox.lookup(RefundRequest("att_r", ref, "card", "USD", 2_500)) == out

    failing = sandbox.authorize(card("tok_sandbox_refund_fail")).provider_ref
    assert failing is not None
    assert sandbox.capture(CaptureRequest("att_c", failing, "card", "USD", 10_000)).status is OS.succeeded
    out = sandbox.refund(RefundRequest("att_r", failing, "card", "USD", 2_500))
    assert (out.status, out.error_code) == (OS.failed, "processing_error")

    slow = sandbox.authorize(card("tok_sandbox_refund_timeout")).provider_ref
    assert slow is not None
    assert sandbox.refund(RefundRequest(SUCCEEDS, slow, "card", "USD", 1)).status is OS.timed_out
    assert sandbox.lookup(RefundRequest(SUCCEEDS, slow, "card", "USD", 1)).status is OS.succeeded
    assert sandbox.lookup(RefundRequest(DECLINES, slow, "card", "USD", 1)).status is OS.declined


def test_follow_ups_need_a_sandbox_reference(sandbox):
    for ref in ["ch_123", "sbx_decline_0123456789abcdef", "sbx_cap_0123456789abcdef", ""]:
        out = sandbox.capture(CaptureRequest("att_c", ref, "card", "USD", 100))
        assert (out.status, out.error_code) == (OS.declined, "invalid_reference")
        assert (
            sandbox.refund(RefundRequest("att_r", ref, "card", "USD", 100)).error_code == "invalid_reference"
        )
        assert sandbox.void(VoidRequest("att_v", ref, "card", "USD", 100)).error_code == "invalid_reference"


# -- what never reaches the sandbox -------------------------------------------------------


@pytest.mark.parametrize(
    "request_, code",
    [
        (
            AuthorizeRequest("a", "store_credit", "USD", 100, PaymentSource("tok_sandbox_ok")),
            "unsupported_payment_method",
        ),
        (
            AuthorizeRequest("a", "cash", "USD", 100, PaymentSource("tok_sandbox_ok")),
            "invalid_payment_method",
        ),
        (AuthorizeRequest("a", "card", "XXX", 100, CARD), "unknown_currency"),
        (AuthorizeRequest("a", "card", "USD", 0, CARD), "invalid_amount"),
        (AuthorizeRequest("", "card", "USD", 100, CARD), "invalid_attempt_id"),
        (AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_sandbox_ok")), "invalid_card_details"),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_sandbox_ok", "visa", "42")),
            "invalid_card_details",
        ),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_sandbox_ok", "visa", "42a2")),
            "invalid_card_details",
        ),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_sandbox_ok", "acme", "4242")),
            "invalid_card_details",
        ),
        (
            AuthorizeRequest("a", "alipay", "USD", 100, PaymentSource("tok_sandbox_ok", "visa", "4242")),
            "invalid_card_details",
        ),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("4242424242424242", "visa", "4242")),
            "invalid_payment_token",
        ),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_4242424242424242", "visa", "4242")),
            "invalid_payment_token",
        ),
        (
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource("tok_ok 1", "visa", "4242")),
            "invalid_payment_token",
        ),
    ],
)
def test_invalid_requests_are_refused(sandbox, request_, code):
    with pytest.raises(Invalid) as err:
        sandbox.authorize(request_)
    assert err.value.code == code


def test_a_card_number_as_token_is_never_echoed(sandbox):
    pan = "4242424242424242"
    with pytest.raises(Invalid) as err:
        sandbox.authorize(
            AuthorizeRequest("a", "card", "USD", 100, PaymentSource(f"tok_{pan}", "visa", "4242"))
        )
    assert pan not in str(err.value) and pan not in repr(err.value.extra)


# -- the sandbox driving the domain ------------------------------------------------------------


def apply_outcome(payment, outcome: ProviderOutcome):
    """What a payment service does with an authorize outcome (sketch of the second command)."""
    if outcome.status is OS.timed_out:
        return payments.mark_unknown(payment)
    if outcome.status in (OS.declined, OS.failed):
        return payments.fail(payment, code=outcome.error_code or "declined")
    return payments.authorize(payment, at=T0, provider_ref=outcome.provider_ref)


@given(
    token=st.sampled_from(sorted(SANDBOX_TOKENS)),
    method=st.sampled_from(["card", "alipay", "wechat_pay", "bank_transfer"]),
    amount=st.integers(1, 10**7),
    attempt=st.sampled_from(["att_0", "att_1", "att_2", "att_7"]),
)
def test_outcomes_drive_the_domain_and_balance_the_ledger(token, method, amount, attempt):
    provider = SandboxProvider()
    request = AuthorizeRequest(attempt, method, "USD", amount, source_for(method, token))
    payment = payments.new_payment("pay_1", "ord_1", method, "USD", amount)
    outcome = provider.authorize(request)
    payment, movement = apply_outcome(payment, outcome)
    if payment.status is PaymentStatus.unknown:
        outcome = provider.lookup(request)  # the reconciler
        assert outcome.status is not OS.timed_out
        payment, movement = apply_outcome(payment, outcome)
    if payment.status is PaymentStatus.awaiting_funds:
        funds = provider.lookup(request)
        if funds.captured:
            payment, movement = payments.funds_received(payment, funds.amount_minor)
            outcome = funds
    postings = []
    basis = split_amount(amount, Split(amount - amount // 10, amount // 10, 0))
    if movement is not None and movement.kind is payments.MovementKind.hold:
        postings.append(ledger.hold_posting(posting_id="h", reference="pay_1", amount_minor=amount))
        cap = provider.capture(CaptureRequest("att_cap", payment.provider_ref or "", method, "USD", amount))
        if cap.status is OS.succeeded:
            payment, movement = payments.capture(payment, amount)
            outcome = cap
        else:
            assert token in ("tok_sandbox_capture_decline", "tok_sandbox_capture_timeout")
            movement = None
    if movement is not None and movement.kind is payments.MovementKind.capture:
        assert outcome.captured
        assert outcome.fee_minor == capture_fee(method, 0, amount, 2)
        postings.append(
            ledger.capture_posting(
                posting_id="c", reference="pay_1", method=method, split=basis, provider="sandbox"
            )
        )
        if outcome.fee_minor:
            postings.append(
                ledger.fee_posting(
                    posting_id="f", reference="pay_1", provider="sandbox", fee_minor=outcome.fee_minor
                )
            )
    bal = ledger.balances(postings)
    assert sum(bal.values()) == 0
    if payment.status is PaymentStatus.captured:
        assert bal[Account.provider_clearing] == amount - outcome.fee_minor
