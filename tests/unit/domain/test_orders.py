import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from transactional.domain.errors import IllegalTransition, Invalid
from transactional.domain.orders import (
    CANCELLABLE,
    INITIAL_STATUS,
    MODIFIABLE,
    TRANSITIONS,
    OrderStatus,
    can_cancel,
    can_modify,
    is_terminal,
    shipment_status,
    transition,
)

S = OrderStatus


def test_happy_path():
    status = INITIAL_STATUS
    for step in ["paid", "picking", "partially_shipped", "partially_shipped", "shipped"]:
        status = transition(status, step)
    for step in ["delivered", "completed"]:
        status = transition(status, step)
    assert status is S.completed and is_terminal(status)


def test_illegal_transition_message_and_fields():
    with pytest.raises(IllegalTransition) as err:
        transition("shipped", "cancelled")
    assert str(err.value) == "cannot move order from shipped to cancelled"
    assert err.value.code == "illegal_transition"
    assert err.value.extra == {"current": "shipped", "target": "cancelled"}


def test_unknown_status():
    with pytest.raises(Invalid) as err:
        transition("pending_payment", "refunded")
    assert err.value.code == "invalid_order_status"


def test_every_status_has_transitions_and_terminals():
    assert set(TRANSITIONS) == set(S)
    assert {s for s in S if is_terminal(s)} == {S.completed, S.cancelled, S.expired}
    assert MODIFIABLE == {S.pending_payment}
    assert CANCELLABLE == {S.pending_payment, S.paid, S.picking}
    assert can_modify("pending_payment") and not can_modify("paid")
    assert can_cancel("picking") and not can_cancel("partially_shipped")


def test_shipment_status():
    ordered = {"l1": 2, "l2": 1}
    assert shipment_status(ordered, {"l1": 1}) is S.partially_shipped
    assert shipment_status(ordered, {"l1": 2, "l2": 0}) is S.partially_shipped
    assert shipment_status(ordered, {"l1": 2, "l2": 1}) is S.shipped
    for shipped, code in [
        ({"l1": 3}, "over_shipment"),
        ({"l9": 1}, "over_shipment"),
        ({"l1": -1}, "invalid_quantity"),
        ({}, "nothing_shipped"),
        ({"l1": 0}, "nothing_shipped"),
    ]:
        with pytest.raises(Invalid) as err:
            shipment_status(ordered, shipped)
        assert err.value.code == code


class OrderMachine(RuleBasedStateMachine):
    """Random transition attempts against a model of the status history."""

    def __init__(self) -> None:
        super().__init__()
        self.status = INITIAL_STATUS
        self.history = [INITIAL_STATUS]

    @rule(dst=st.sampled_from(list(S)))
    def attempt(self, dst):
        if dst in TRANSITIONS[self.status]:
            assert transition(self.status, dst) is dst
            self.status = dst
            self.history.append(dst)
        else:
            with pytest.raises(IllegalTransition):
                transition(self.status, dst)

    @precondition(lambda self: is_terminal(self.status))
    @rule(dst=st.sampled_from(list(S)))
    def terminal_stays_terminal(self, dst):
        with pytest.raises(IllegalTransition):
            transition(self.status, dst)

    @invariant()
    def history_replays_to_current(self):
        replayed = self.history[0]
        for step in self.history[1:]:
            replayed = transition(replayed, step)
        assert replayed is self.status

    @invariant()
    def modify_and_cancel_agree_with_table(self):
        assert can_modify(self.status) == (self.status is S.pending_payment)
        assert can_cancel(self.status) == (S.cancelled in TRANSITIONS[self.status])
        if is_terminal(self.status):
            assert not can_cancel(self.status) and not can_modify(self.status)


TestOrderMachine = OrderMachine.TestCase
