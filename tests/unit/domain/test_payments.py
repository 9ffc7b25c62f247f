from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from transactional.domain import ledger
from transactional.domain.errors import Conflict, IllegalTransition, Invalid
from transactional.domain.ledger import Account, Split, split_amount
from transactional.domain.money import currency_exponent
from transactional.domain.payments import (
    INITIAL_STATUS,
    PAID_STATUSES,
    TERMINAL,
    TRANSITIONS,
    MovementKind,
    Payment,
    PaymentMovement,
    PaymentStatus,
    authorization_due,
    authorize,
    capture,
    capture_fee,
    check_capture,
    check_currency,
    check_refund,
    expire_authorization,
    fail,
    funds_received,
    is_paid,
    mark_unknown,
    new_payment,
    provider_fee,
    refund,
    shipment_capture_minor,
    void,
)
from transactional.domain.store_credit import CreditBalance, draw_down, issue, refund_to_credit
from transactional.domain.words import PAYMENT_METHODS

S = PaymentStatus
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def pay(method="card", amount=10_000, currency="USD") -> Payment:
    return new_payment("pay_1", "ord_1", method, currency, amount)


def authorized(method="card", amount=10_000) -> Payment:
    payment, _ = authorize(pay(method, amount), at=T0, provider_ref="ref_1")
    return payment


def code_of(err) -> str:
    return err.value.code


# -- construction ---------------------------------------------------------------


def test_new_payment_is_pending():
    p = pay()
    assert p.status is INITIAL_STATUS is S.pending
    assert (p.authorized_minor, p.captured_minor, p.refunded_minor, p.voided_minor) == (0, 0, 0, 0)
    assert not is_paid(p)


@pytest.mark.parametrize(
    "args, code",
    [
        (("cash", "USD", 100), "invalid_payment_method"),
        (("card", "XXX", 100), "unknown_currency"),
        (("card", "USD", 0), "invalid_amount"),
        (("card", "USD", -1), "invalid_amount"),
        (("card", "USD", True), "invalid_amount"),
        (("card", "USD", 1.0), "invalid_amount"),
    ],
)
def test_new_payment_rejects(args, code):
    with pytest.raises(Invalid) as err:
        new_payment("pay_1", "ord_1", *args)
    assert code_of(err) == code


def test_check_currency():
    assert check_currency("USD", "USD") == "USD"
    with pytest.raises(Invalid) as err:
        check_currency("EUR", "USD")
    assert code_of(err) == "currency_mismatch"
    with pytest.raises(Invalid) as err:
        check_currency("usd", "USD")
    assert code_of(err) == "unknown_currency"


def test_amount_invariants_are_enforced():
    with pytest.raises(ValueError):
        Payment(
            "p", "o", "card", "USD", 100, S.captured, authorized_minor=100, captured_minor=60, voided_minor=50
        )
    with pytest.raises(ValueError):
        Payment(
            "p",
            "o",
            "card",
            "USD",
            100,
            S.captured,
            authorized_minor=100,
            captured_minor=50,
            refunded_minor=51,
        )
    with pytest.raises(ValueError):
        Payment("p", "o", "card", "USD", 100, S.authorized, authorized_minor=101)


# -- the state machine table ---------------------------------------------------------


def test_transition_table():
    assert set(TRANSITIONS) == set(S)
    assert TERMINAL == {S.refunded, S.voided, S.expired, S.failed}
    assert PAID_STATUSES == {S.authorized, S.partially_captured, S.captured, S.partially_refunded, S.refunded}
    # Money, once secured, never goes back to an unsecured state.
    for src in PAID_STATUSES:
        assert TRANSITIONS[src] - PAID_STATUSES <= {S.voided, S.expired}
    assert S.pending not in set().union(*TRANSITIONS.values())


# -- methods ---------------------------------------------------------------------


def test_card_authorize_capture_refund():
    p, m = authorize(pay(), at=T0, provider_ref="ch_1")
    assert p.status is S.authorized and is_paid(p)
    assert m == PaymentMovement(MovementKind.hold, 10_000)
    assert (p.authorized_minor, p.expires_at, p.provider_ref) == (10_000, T0 + timedelta(days=7), "ch_1")

    p, m = capture(p, 4_000)
    assert (p.status, p.captured_minor, p.open_minor) == (S.partially_captured, 4_000, 6_000)
    assert m == PaymentMovement(MovementKind.capture, 4_000)
    p, m = refund(p, 1_000)  # refund of the first shipment while the rest is still held
    assert (p.status, p.refunded_minor, m) == (
        S.partially_captured,
        1_000,
        PaymentMovement(MovementKind.refund, 1_000),
    )
    p, _ = capture(p, 6_000)
    assert (p.status, p.captured_minor, p.open_minor) == (S.partially_refunded, 10_000, 0)
    p, _ = refund(p, 9_000)
    assert (p.status, p.refundable_minor) == (S.refunded, 0)
    assert is_paid(p)


def test_full_capture_then_refunds():
    p, _ = capture(authorized(), 10_000)
    assert p.status is S.captured
    p, _ = refund(p, 2_500)
    assert p.status is S.partially_refunded
    p, _ = refund(p, 7_500)
    assert p.status is S.refunded


@pytest.mark.parametrize("method", ["alipay", "wechat_pay", "store_credit"])
def test_wallets_and_store_credit_complete_at_once(method):
    p, m = authorize(pay(method), at=T0)
    assert p.status is S.captured and is_paid(p)
    assert (p.authorized_minor, p.captured_minor, p.expires_at) == (10_000, 10_000, None)
    assert m == PaymentMovement(MovementKind.capture, 10_000)
    with pytest.raises(IllegalTransition) as err:
        capture(p, 1)
    assert code_of(err) == "payment_not_capturable"
    with pytest.raises(IllegalTransition) as err:
        void(p)
    assert code_of(err) == "payment_not_voidable"
    p, _ = refund(p, 10_000)
    assert p.status is S.refunded


def test_bank_transfer_waits_for_funds():
    p, m = authorize(pay("bank_transfer"), at=T0)
    assert (p.status, m, p.expires_at) == (S.awaiting_funds, None, T0 + timedelta(days=14))
    assert not is_paid(p)
    with pytest.raises(Invalid) as err:
        funds_received(p, 9_999)
    assert code_of(err) == "funds_amount_mismatch"
    with pytest.raises(IllegalTransition) as err:
        capture(p, 10_000)
    assert code_of(err) == "payment_not_capturable"
    paid, m = funds_received(p, 10_000)
    assert (paid.status, paid.captured_minor, paid.expires_at) == (S.captured, 10_000, None)
    assert m == PaymentMovement(MovementKind.capture, 10_000) and is_paid(paid)
    with pytest.raises(IllegalTransition) as err:
        funds_received(paid, 10_000)
    assert code_of(err) == "payment_not_awaiting_funds"


def test_bank_transfer_expires():
    p, _ = authorize(pay("bank_transfer"), at=T0)
    assert not authorization_due(p, T0 + timedelta(days=14) - timedelta(seconds=1))
    with pytest.raises(Conflict) as err:
        expire_authorization(p, now=T0 + timedelta(days=13))
    assert code_of(err) == "authorization_not_expired"
    p, m = expire_authorization(p, now=T0 + timedelta(days=14))
    assert (p.status, m, is_paid(p)) == (S.expired, None, False)
    with pytest.raises(IllegalTransition):
        funds_received(p, 10_000)


def test_failure_and_unknown():
    p, m = fail(pay(), code="card_declined")
    assert (p.status, p.failure_code, m) == (S.failed, "card_declined", None)
    with pytest.raises(IllegalTransition) as err:
        capture(p, 1)
    assert code_of(err) == "payment_not_capturable"
    with pytest.raises(IllegalTransition) as err:
        authorize(p, at=T0)
    assert code_of(err) == "payment_not_authorizable"

    u, m = mark_unknown(pay())
    assert (u.status, m) == (S.unknown, None)
    with pytest.raises(IllegalTransition) as err:
        mark_unknown(u)
    assert code_of(err) == "payment_not_pending"
    assert authorize(u, at=T0)[0].status is S.authorized  # the reconciler learned it succeeded
    assert fail(u, code="declined")[0].status is S.failed
    with pytest.raises(IllegalTransition):
        fail(authorized(), code="late")


def test_void_releases_only_the_uncaptured_remainder():
    p, m = void(authorized())
    assert (p.status, p.voided_minor, m) == (S.voided, 10_000, PaymentMovement(MovementKind.release, 10_000))
    assert not is_paid(p)
    with pytest.raises(IllegalTransition) as err:
        capture(p, 1)
    assert code_of(err) == "payment_not_capturable"

    p, _ = capture(authorized(), 3_000)
    p, m = void(p)
    assert (p.status, p.captured_minor, p.voided_minor) == (S.captured, 3_000, 7_000)
    assert m == PaymentMovement(MovementKind.release, 7_000)
    with pytest.raises(IllegalTransition) as err:
        void(p)
    assert code_of(err) == "payment_not_voidable"

    p, _ = capture(authorized(), 3_000)
    p, _ = refund(p, 3_000)
    assert void(p)[0].status is S.refunded


def test_card_authorization_expiry():
    p = authorized()
    assert p.expires_at == T0 + timedelta(days=7)
    with pytest.raises(Conflict) as err:
        expire_authorization(p, now=T0 + timedelta(days=6))
    assert code_of(err) == "authorization_not_expired"
    expired, m = expire_authorization(p, now=T0 + timedelta(days=7))
    assert (expired.status, m) == (S.expired, PaymentMovement(MovementKind.release, 10_000))
    part, _ = capture(p, 2_500)
    part, m = expire_authorization(part, now=T0 + timedelta(days=8))
    assert (part.status, part.captured_minor, m.amount_minor) == (S.captured, 2_500, 7_500)
    with pytest.raises(IllegalTransition) as err:
        expire_authorization(part, now=T0 + timedelta(days=9))
    assert code_of(err) == "payment_not_expirable"
    with pytest.raises(ValueError):
        expire_authorization(p, now=datetime(2025, 3, 9))


def test_capture_and_refund_limits():
    p = authorized()
    with pytest.raises(Invalid) as err:
        capture(p, 10_001)
    assert code_of(err) == "capture_exceeds_authorized"
    assert err.value.extra == {"requested": 10_001, "capturable": 10_000}
    with pytest.raises(Invalid) as err:
        capture(p, 0)
    assert code_of(err) == "invalid_amount"
    with pytest.raises(IllegalTransition) as err:
        refund(p, 1)
    assert code_of(err) == "payment_not_refundable"
    p, _ = capture(p, 6_000)
    with pytest.raises(Invalid) as err:
        capture(p, 4_001)
    assert code_of(err) == "capture_exceeds_authorized"
    with pytest.raises(Invalid) as err:
        refund(p, 6_001)
    assert code_of(err) == "refund_exceeds_captured"
    p, _ = refund(p, 6_000)
    with pytest.raises(Invalid) as err:
        refund(p, 1)
    assert code_of(err) == "refund_exceeds_captured"


def test_in_flight_amounts_count_against_the_limits():
    p, _ = capture(authorized(), 10_000)
    check_refund(p, 4_000, in_flight_minor=6_000)
    with pytest.raises(Invalid) as err:
        check_refund(p, 4_001, in_flight_minor=6_000)
    assert code_of(err) == "refund_exceeds_captured"
    q = authorized()
    check_capture(q, 5_000, in_flight_minor=5_000)
    with pytest.raises(Invalid) as err:
        check_capture(q, 5_001, in_flight_minor=5_000)
    assert code_of(err) == "capture_exceeds_authorized"


def test_authorize_needs_an_aware_instant():
    with pytest.raises(ValueError):
        authorize(pay(), at=datetime(2025, 3, 1))


# -- fees -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, amount, currency, fee",
    [
        # card: 2.9 % + 0.30, rounded once, half up
        ("card", 10_000, "USD", 320),  # 290 + 30
        ("card", 1_999, "USD", 88),  # 57.971 + 30 = 87.971
        ("card", 50, "USD", 31),  # 1.45 + 30 = 31.45
        ("card", 10_000, "JPY", 290),  # 290 + 0.3
        ("card", 50, "JPY", 2),  # 1.45 + 0.3 = 1.75
        ("card", 1_000, "KWD", 329),  # 29 + 300
        # wallets: 0.6 %
        ("alipay", 12_345, "USD", 74),  # 74.07
        ("alipay", 250, "USD", 2),  # 1.5 rounds half up
        ("wechat_pay", 75, "JPY", 0),  # 0.45
        ("wechat_pay", 100_000, "JPY", 600),
        # bank transfer: flat 1.00
        ("bank_transfer", 123_456, "USD", 100),
        ("bank_transfer", 5_000, "JPY", 1),
        ("bank_transfer", 1, "KWD", 1_000),
        ("store_credit", 10_000, "USD", 0),
        ("card", 0, "USD", 0),
    ],
)
def test_provider_fee_examples(method, amount, currency, fee):
    assert provider_fee(method, amount, currency_exponent(currency)) == fee


def test_provider_fee_rejects():
    with pytest.raises(Invalid) as err:
        provider_fee("cash", 100, 2)
    assert code_of(err) == "invalid_payment_method"
    with pytest.raises(Invalid) as err:
        provider_fee("card", -1, 2)
    assert code_of(err) == "invalid_amount"


def test_capture_fee_is_incremental_per_payment():
    # USD card 100.00 captured as 40.00 + 60.00: fee(40.00) = 116 + 30 = 146,
    # fee(100.00) = 320, so the second capture carries 174 and the fixed part once.
    assert capture_fee("card", 0, 4_000, 2) == 146
    assert capture_fee("card", 4_000, 6_000, 2) == 174
    # JPY 3,333 + 6,667: fee(3,333) = round(96.657 + 0.3) = 97; fee(10,000) = 290.
    assert capture_fee("card", 0, 3_333, 0) == 97
    assert capture_fee("card", 3_333, 6_667, 0) == 193


@given(
    method=st.sampled_from(sorted(PAYMENT_METHODS)),
    parts=st.lists(st.integers(1, 100_000), min_size=1, max_size=6),
    exponent=st.sampled_from([0, 2, 3]),
)
def test_capture_fees_add_up_to_the_payment_fee(method, parts, exponent):
    before, total_fee = 0, 0
    for part in parts:
        fee = capture_fee(method, before, part, exponent)
        assert fee >= 0
        total_fee += fee
        before += part
    assert total_fee == provider_fee(method, before, exponent)


# -- the stateful test: payments, ledger and store credit together -------------------------

PROVIDER = "sandbox"
HOLDS = (S.authorized, S.partially_captured)
REFUNDABLE = (S.partially_captured, S.captured, S.partially_refunded, S.refunded)
NEXT_ATTEMPT_AFTER = TERMINAL | {S.captured, S.partially_refunded}


@dataclass
class Attempt:
    """One payment and what the ledger recognized and refunded of it."""

    payment: Payment
    basis: Split
    exponent: int
    recognized: Split = ledger.ZERO_SPLIT
    refunded: Split = ledger.ZERO_SPLIT
    fees: int = 0


class PaymentLedgerMachine(RuleBasedStateMachine):
    """Random provider answers, captures, voids, expiries and refunds on payment attempts.

    Every successful step becomes ledger postings; after every step every
    posting balances, the amounts stay ordered, store credit stays >= 0 and
    the ledger ties to the payments. A finished attempt is followed by a new
    one, as a customer retries after a decline.
    """

    @initialize(voucher=st.integers(0, 100_000))
    def start(self, voucher):
        self.attempts: list[Attempt] = []
        self.now = T0
        self.postings: list[ledger.Posting] = []
        self.credit = CreditBalance()
        self.credit_deltas: list[int] = []
        self.fees = 0
        self.to_provider = 0  # captured through the provider
        self.back_through_provider = 0  # refunded to the original method
        self.was_paid = False
        if voucher:
            self._voucher(voucher)

    # -- helpers ----------------------------------------------------------------------

    @property
    def attempt(self) -> Attempt:
        return self.attempts[-1]

    @property
    def payment(self) -> Payment:
        return self.attempt.payment

    def _add(self, p: ledger.Posting) -> None:
        self.postings.append(
            ledger.posting(p.kind, p.lines, posting_id=f"pst_{len(self.postings)}", reference=p.reference)
        )

    def _voucher(self, amount: int) -> None:
        self.credit, mv = issue(self.credit, amount)
        self.credit_deltas.append(mv.delta_minor)
        self._add(ledger.store_credit_issue_posting(posting_id="x", reference="voucher", amount_minor=amount))

    def _apply(self, step, destination: str = "original") -> None:
        before = self.payment
        new, movement = step
        assert new.status in TRANSITIONS[before.status]
        self.attempt.payment = new
        if movement is not None:
            self._post(before, movement, destination)

    def _post(self, before: Payment, movement: PaymentMovement, destination: str) -> None:
        a, amount, method = self.attempt, movement.amount_minor, before.method
        ref = before.payment_id
        if movement.kind is MovementKind.hold:
            self._add(ledger.hold_posting(posting_id="x", reference=ref, amount_minor=amount))
        elif movement.kind is MovementKind.release:
            self._add(ledger.release_posting(posting_id="x", reference=ref, amount_minor=amount))
        elif movement.kind is MovementKind.capture:
            split = split_amount(amount, a.basis - a.recognized)
            a.recognized = a.recognized + split
            provider = None if method == "store_credit" else PROVIDER
            self._add(
                ledger.capture_posting(
                    posting_id="x", reference=ref, method=method, split=split, provider=provider
                )
            )
            if method != "store_credit":
                self.to_provider += amount
            fee = capture_fee(method, before.captured_minor, amount, a.exponent)
            if fee:
                a.fees += fee
                self.fees += fee
                self._add(ledger.fee_posting(posting_id="x", reference=ref, provider=PROVIDER, fee_minor=fee))
        else:
            split = split_amount(amount, a.recognized - a.refunded)
            a.refunded = a.refunded + split
            self._add(
                ledger.refund_posting(
                    posting_id="x",
                    reference=ref,
                    split=split,
                    method=method,
                    destination=destination,  # type: ignore[arg-type]
                    provider=PROVIDER,
                )
            )
            if destination == "store_credit" or method == "store_credit":
                self.credit, mv = refund_to_credit(self.credit, amount)
                self.credit_deltas.append(mv.delta_minor)
            else:
                self.back_through_provider += amount

    def _refused(self, fn, error, expected_code, *args, **kwargs) -> None:
        with pytest.raises(error) as err:
            fn(self.payment, *args, **kwargs)
        assert err.value.code == expected_code

    # -- rules ------------------------------------------------------------------------
    # Each rule runs only where its step can succeed (plus over-large amounts),
    # so that runs get far; ``illegal_steps_are_refused`` tries the rest.

    @precondition(lambda self: not self.attempts or self.payment.status in NEXT_ATTEMPT_AFTER)
    @rule(
        method=st.sampled_from(sorted(PAYMENT_METHODS)),
        currency=st.sampled_from(["USD", "JPY"]),
        revenue=st.integers(1, 50_000),
        tax=st.integers(0, 6_000),
        shipping=st.integers(0, 2_000),
    )
    def new_attempt(self, method, currency, revenue, tax, shipping):
        basis = Split(revenue, tax, shipping)
        payment = new_payment(f"pay_{len(self.attempts)}", "ord_1", method, currency, basis.total_minor)
        self.attempts.append(Attempt(payment, basis, currency_exponent(currency)))
        self.was_paid = False

    # Success is weighted up so that most attempts go on to captures and refunds.
    @precondition(lambda self: self.attempts and self.payment.status in (S.pending, S.unknown))
    @rule(answer=st.sampled_from(["ok", "ok", "ok", "decline", "fail", "timeout"]))
    def provider_answers(self, answer):
        p = self.payment
        if answer == "timeout":
            if p.status is S.pending:
                self._apply(mark_unknown(p))
            else:  # the reconciler asked and the provider still doesn't know
                self._refused(mark_unknown, IllegalTransition, "payment_not_pending")
        elif answer in ("decline", "fail"):
            self._apply(fail(p, code=answer))
        elif p.method == "store_credit":
            # Store credit never reaches a provider: the balance decides.
            try:
                self.credit, mv = draw_down(self.credit, p.amount_minor)
            except Conflict as err:
                assert err.code == "insufficient_store_credit"
                assert p.amount_minor > self.credit.balance_minor
                self._apply(fail(p, code=err.code))
            else:
                self.credit_deltas.append(mv.delta_minor)
                self._apply(authorize(p, at=self.now))
        else:
            self._apply(authorize(p, at=self.now, provider_ref="sbx_ok_0"))

    def _capture(self, amount):
        if amount > self.payment.open_minor:
            self._refused(capture, Invalid, "capture_exceeds_authorized", amount)
        else:
            self._apply(capture(self.payment, amount))

    @precondition(lambda self: self.attempts and self.payment.status in HOLDS)
    @rule(amount=st.integers(1, 60_000))
    def capture_some(self, amount):
        self._capture(amount)

    @precondition(lambda self: self.attempts and self.payment.status in HOLDS)
    @rule(share=st.integers(1, 4))
    def partial_capture(self, share):
        self._capture(max(1, self.payment.open_minor // share))

    @precondition(lambda self: self.attempts and self.payment.status in HOLDS)
    @rule()
    def capture_rest(self):
        self._capture(self.payment.open_minor)

    @precondition(lambda self: self.attempts and self.payment.status in HOLDS)
    @rule()
    def do_void(self):
        self._apply(void(self.payment))

    @precondition(lambda self: self.attempts and self.payment.status in (*HOLDS, S.awaiting_funds))
    @rule(early=st.integers(0, 3).map(bool))
    def do_expire(self, early):
        p = self.payment
        assert p.expires_at is not None
        if early:
            late = p.expires_at - timedelta(seconds=1)
            self._refused(expire_authorization, Conflict, "authorization_not_expired", now=late)
            return
        self.now = max(self.now, p.expires_at)
        self._apply(expire_authorization(p, now=self.now))

    @precondition(lambda self: self.attempts and self.payment.status is S.awaiting_funds)
    @rule()
    def funds_arrive(self):
        self._apply(funds_received(self.payment, self.payment.amount_minor))

    def _refund(self, amount, to_credit):
        if amount > self.payment.refundable_minor:
            self._refused(refund, Invalid, "refund_exceeds_captured", amount)
        else:
            self._apply(refund(self.payment, amount), "store_credit" if to_credit else "original")

    @precondition(lambda self: self.attempts and self.payment.status in REFUNDABLE)
    @rule(amount=st.integers(1, 60_000), to_credit=st.booleans())
    def refund_some(self, amount, to_credit):
        self._refund(amount, to_credit)

    @precondition(lambda self: self.attempts and self.payment.refundable_minor > 0)
    @rule(share=st.integers(1, 3), to_credit=st.booleans())
    def refund_part(self, share, to_credit):
        self._refund(max(1, self.payment.refundable_minor // share), to_credit)

    @rule(amount=st.integers(1, 20_000))
    def issue_voucher(self, amount):
        self._voucher(amount)

    @precondition(lambda self: self.attempts)
    @rule()
    def illegal_steps_are_refused(self):
        status = self.payment.status
        if status not in (S.pending, S.unknown):
            self._refused(authorize, IllegalTransition, "payment_not_authorizable", at=self.now)
            self._refused(fail, IllegalTransition, "payment_not_pending", code="late")
        if status is not S.pending:
            self._refused(mark_unknown, IllegalTransition, "payment_not_pending")
        if status not in HOLDS:
            self._refused(capture, IllegalTransition, "payment_not_capturable", 1)
            self._refused(void, IllegalTransition, "payment_not_voidable")
        if status not in (*HOLDS, S.awaiting_funds):
            self._refused(expire_authorization, IllegalTransition, "payment_not_expirable", now=self.now)
        if status is not S.awaiting_funds:
            self._refused(funds_received, IllegalTransition, "payment_not_awaiting_funds", 1)
        if status not in REFUNDABLE:
            self._refused(refund, IllegalTransition, "payment_not_refundable", 1)

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def every_posting_balances(self):
        for p in self.postings:
            assert len(p.lines) >= 2
            assert sum(line.debit_minor for line in p.lines) == sum(line.credit_minor for line in p.lines) > 0
        debits = sum(line.debit_minor for p in self.postings for line in p.lines)
        credits = sum(line.credit_minor for p in self.postings for line in p.lines)
        assert debits == credits
        assert sum(ledger.balances(self.postings).values()) == 0

    @invariant()
    def amounts_stay_ordered(self):
        for a in self.attempts:
            p = a.payment
            assert 0 <= p.refunded_minor <= p.captured_minor <= p.authorized_minor <= p.amount_minor
            assert p.captured_minor + p.voided_minor <= p.authorized_minor

    @invariant()
    def store_credit_never_negative(self):
        assert self.credit.balance_minor >= 0
        assert sum(self.credit_deltas) == self.credit.balance_minor

    @invariant()
    def ledger_ties_to_the_payments(self):
        bal = ledger.balances(self.postings)
        held = sum(a.payment.open_minor for a in self.attempts if a.payment.method == "card")
        assert bal.get(Account.customer_receivable, 0) == held
        assert bal.get(Account.authorization_holds, 0) == -held
        recognized = -sum(
            bal.get(acct, 0)
            for acct in (
                Account.sales_revenue,
                Account.tax_payable,
                Account.shipping_revenue,
                Account.refunds,
            )
        )
        assert recognized == sum(a.payment.captured_minor - a.payment.refunded_minor for a in self.attempts)
        assert bal.get(Account.store_credit_liability, 0) == -self.credit.balance_minor
        assert bal.get(Account.provider_fees, 0) == self.fees
        clearing = ledger.provider_balances(self.postings).get((Account.provider_clearing, PROVIDER), 0)
        assert clearing == self.to_provider - self.back_through_provider - self.fees
        for a in self.attempts:
            p = a.payment
            assert a.recognized.total_minor == p.captured_minor
            assert a.refunded.total_minor == p.refunded_minor
            if p.captured_minor == p.amount_minor:
                # Fully captured: revenue, tax and shipping recognized to the unit, fee per payment.
                assert a.recognized == a.basis
                assert a.fees == provider_fee(p.method, p.amount_minor, a.exponent)

    @invariant()
    def paid_is_sticky(self):
        if not self.attempts:
            return
        paid = is_paid(self.payment)
        assert paid == (self.payment.status in PAID_STATUSES)
        if self.was_paid and self.payment.status not in (S.voided, S.expired):
            assert paid
        self.was_paid = paid


TestPaymentLedgerMachine = PaymentLedgerMachine.TestCase
TestPaymentLedgerMachine.settings = settings(max_examples=200, stateful_step_count=40)


@given(
    lines=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), min_size=1, max_size=4),
    shipping=st.integers(0, 2_000),
    data=st.data(),
)
def test_captures_per_parcel_add_up_to_the_authorization(
    lines: list[tuple[int, int]], shipping: int, data: st.DataObject
) -> None:
    """Whatever the parcels, each capture is >= 0, none exceeds the hold, and the last takes the rest."""
    ordered = {f"l{i}": qty for i, (qty, _) in enumerate(lines)}
    totals = {f"l{i}": total for i, (_, total) in enumerate(lines)}
    authorized = sum(totals.values()) + shipping
    shipped = dict.fromkeys(ordered, 0)
    captured = 0
    while any(shipped[k] < ordered[k] for k in ordered):
        line = data.draw(st.sampled_from([k for k in ordered if shipped[k] < ordered[k]]))
        shipped[line] += data.draw(st.integers(1, ordered[line] - shipped[line]))
        amount = shipment_capture_minor(
            line_totals=totals,
            ordered=ordered,
            shipped_after=shipped,
            shipping_minor=shipping,
            authorized_minor=authorized,
            captured_or_in_flight_minor=captured,
            fully_shipped=all(shipped[k] == ordered[k] for k in ordered),
        )
        assert amount >= 0
        captured += amount
        assert captured <= authorized
    assert captured == authorized
