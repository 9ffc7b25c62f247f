"""Store credit (PAY-1, PAY-4): a customer's balance and the movements that explain it.

Rules (copied into DECISIONLOG.md):

- A balance is int minor units of the store's currency, never below zero.
- It changes only by movements, so Σ delta = balance always:
  ``issue`` (an admin's voucher, +), ``refund_to_credit`` (a refund paid as
  store credit, or the refund of a store-credit payment, +) and ``draw_down``
  (paying with store credit, −).
- Drawing more than the balance is refused whole (Conflict
  ``insufficient_store_credit``): a store-credit payment never goes partly
  through. Every movement has a positive amount (else ``invalid_amount``).
- The ledger side of each movement is ``ledger.store_credit_issue_posting``,
  ``ledger.refund_posting`` (to store credit) and
  ``ledger.store_credit_redemption_posting``; store_credit_liability equals
  the sum of all balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transactional.domain.errors import Conflict, Invalid


class CreditMovementKind(StrEnum):
    issue = "issue"
    refund = "refund"
    redemption = "redemption"


@dataclass(frozen=True, slots=True)
class CreditBalance:
    balance_minor: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.balance_minor, int) and self.balance_minor >= 0):
            raise ValueError(f"store credit balance must be an int >= 0, got {self.balance_minor!r}")


@dataclass(frozen=True, slots=True)
class CreditMovement:
    kind: CreditMovementKind
    delta_minor: int


def _require_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise Invalid(f"amount must be a positive int of minor units, got {amount!r}", code="invalid_amount")


def _apply(balance: CreditBalance, movement: CreditMovement) -> tuple[CreditBalance, CreditMovement]:
    return CreditBalance(balance.balance_minor + movement.delta_minor), movement


def issue(balance: CreditBalance, amount_minor: int) -> tuple[CreditBalance, CreditMovement]:
    """An admin's voucher adds ``amount_minor``."""
    _require_amount(amount_minor)
    return _apply(balance, CreditMovement(CreditMovementKind.issue, amount_minor))


def refund_to_credit(balance: CreditBalance, amount_minor: int) -> tuple[CreditBalance, CreditMovement]:
    """A refund paid as store credit adds ``amount_minor``."""
    _require_amount(amount_minor)
    return _apply(balance, CreditMovement(CreditMovementKind.refund, amount_minor))


def draw_down(balance: CreditBalance, amount_minor: int) -> tuple[CreditBalance, CreditMovement]:
    """Pay ``amount_minor`` with store credit; refused whole if the balance is short."""
    _require_amount(amount_minor)
    if amount_minor > balance.balance_minor:
        raise Conflict(
            f"store credit of {balance.balance_minor} cannot pay {amount_minor}",
            code="insufficient_store_credit",
            requested=amount_minor,
            available=balance.balance_minor,
        )
    return _apply(balance, CreditMovement(CreditMovementKind.redemption, -amount_minor))
