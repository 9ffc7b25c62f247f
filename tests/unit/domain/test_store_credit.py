import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from transactional.domain.errors import Conflict, Invalid
from transactional.domain.store_credit import (
    CreditBalance,
    CreditMovement,
    CreditMovementKind,
    draw_down,
    issue,
    refund_to_credit,
)

K = CreditMovementKind


def test_issue_draw_down_refund():
    balance = CreditBalance()
    balance, m = issue(balance, 5000)
    assert (balance, m) == (CreditBalance(5000), CreditMovement(K.issue, 5000))
    balance, m = draw_down(balance, 1200)
    assert (balance, m) == (CreditBalance(3800), CreditMovement(K.redemption, -1200))
    balance, m = refund_to_credit(balance, 200)
    assert (balance, m) == (CreditBalance(4000), CreditMovement(K.refund, 200))
    balance, m = draw_down(balance, 4000)
    assert balance == CreditBalance(0)


def test_draw_down_never_below_zero():
    with pytest.raises(Conflict) as err:
        draw_down(CreditBalance(999), 1000)
    assert err.value.code == "insufficient_store_credit"
    assert err.value.extra == {"requested": 1000, "available": 999}
    with pytest.raises(Conflict):
        draw_down(CreditBalance(), 1)


@pytest.mark.parametrize("fn", [issue, draw_down, refund_to_credit])
@pytest.mark.parametrize("amount", [0, -5, True, 1.5, "10"])
def test_amounts_must_be_positive_ints(fn, amount):
    with pytest.raises(Invalid) as err:
        fn(CreditBalance(100), amount)
    assert err.value.code == "invalid_amount"


def test_balance_cannot_be_negative():
    with pytest.raises(ValueError):
        CreditBalance(-1)


class CreditMachine(RuleBasedStateMachine):
    """Random movements: the balance is the sum of its movements and never negative."""

    def __init__(self) -> None:
        super().__init__()
        self.balance = CreditBalance()
        self.movements: list[CreditMovement] = []

    @rule(amount=st.integers(1, 10_000))
    def do_issue(self, amount):
        self.balance, m = issue(self.balance, amount)
        self.movements.append(m)

    @rule(amount=st.integers(1, 10_000))
    def do_refund(self, amount):
        self.balance, m = refund_to_credit(self.balance, amount)
        self.movements.append(m)

    @rule(amount=st.integers(1, 20_000))
    def do_draw_down(self, amount):
        if amount <= self.balance.balance_minor:
            self.balance, m = draw_down(self.balance, amount)
            self.movements.append(m)
        else:
            before = self.balance
            with pytest.raises(Conflict):
                draw_down(self.balance, amount)
            assert self.balance == before

    @invariant()
    def balance_is_sum_of_movements(self):
        assert self.balance.balance_minor >= 0
        assert sum(m.delta_minor for m in self.movements) == self.balance.balance_minor


TestCreditMachine = CreditMachine.TestCase
