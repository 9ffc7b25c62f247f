"""The double-entry ledger (PAY-5): chart of accounts, balanced postings, builders.

Every money movement is one ``Posting``: lines of (account, debit, credit) in
int minor units of the store's currency. A Posting cannot exist unbalanced,
and postings are append-only: a correction is a new posting (``reversal_posting``
undoes one exactly), never an update.

Rules (copied into DECISIONLOG.md):

- A posting has at least two lines; every amount is an int >= 0; a line is a
  debit or a credit, never both or neither; Σ debits = Σ credits
  (else Invalid ``unbalanced_posting``). ``provider_clearing`` and
  ``provider_fees`` lines name their provider; no other line does.
- Chart (type, normal side): ``bank`` (asset, debit); ``provider_clearing``
  per provider (asset: captured money the provider owes us until it pays out);
  ``customer_receivable`` (asset: what customers owe on secured but uncaptured
  card authorizations); ``authorization_holds`` (memo offset of those holds,
  credit; neither revenue nor a debt to anyone); ``tax_payable`` and
  ``store_credit_liability`` (liabilities, credit); ``sales_revenue`` (net of
  discounts, without tax and shipping) and ``shipping_revenue`` (revenue,
  credit); ``refunds`` (contra-revenue, debit: refunded goods amounts, the
  ledger side of "returns"); ``provider_fees`` per provider and
  ``voucher_expense`` (expenses, debit).
- Revenue is recognized when money is captured, not when a card is
  authorized: a hold books ``customer_receivable`` against
  ``authorization_holds`` only; a capture credits revenue, tax and shipping
  and, for a card, consumes that much of the hold. A capture declined after
  the goods left therefore stays in ``customer_receivable``.
- A capture is split into revenue, tax and shipping by largest remainder over
  what of the payment is still unrecognized (``split_amount``); the first
  capture is thus proportional to the order's totals, and the captures of a
  fully captured payment add up to its totals exactly. A refund by amount is
  split the same way over what was recognized and not yet refunded; a refund
  by lines uses the lines' own amounts.
- Postings per movement: hold — Dr customer_receivable / Cr
  authorization_holds; release (void or expiry) — the reverse; capture — Dr
  provider_clearing (card, wallets, bank transfer) / Cr sales_revenue,
  tax_payable, shipping_revenue (+ Dr authorization_holds / Cr
  customer_receivable for a card); store-credit payment — the same with Dr
  store_credit_liability; fee — Dr provider_fees / Cr provider_clearing, with
  each capture; refund — Dr refunds, tax_payable, shipping_revenue / Cr
  provider_clearing (original method) or store_credit_liability (to store
  credit, or a store-credit payment); voucher — Dr voucher_expense / Cr
  store_credit_liability; payout — Dr bank / Cr provider_clearing.
- ``balances`` are debit − credit per account, so credit-normal accounts read
  negative and all accounts together sum to 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from transactional.domain.errors import Invalid
from transactional.domain.money import allocate
from transactional.domain.words import PAYMENT_METHODS, require_word


class Account(StrEnum):
    bank = "bank"
    provider_clearing = "provider_clearing"
    customer_receivable = "customer_receivable"
    authorization_holds = "authorization_holds"
    tax_payable = "tax_payable"
    store_credit_liability = "store_credit_liability"
    sales_revenue = "sales_revenue"
    shipping_revenue = "shipping_revenue"
    refunds = "refunds"
    provider_fees = "provider_fees"
    voucher_expense = "voucher_expense"


_A = Account

AccountType = Literal["asset", "liability", "memo", "revenue", "contra_revenue", "expense"]

ACCOUNT_TYPES: Mapping[Account, AccountType] = MappingProxyType(
    {
        _A.bank: "asset",
        _A.provider_clearing: "asset",
        _A.customer_receivable: "asset",
        _A.authorization_holds: "memo",
        _A.tax_payable: "liability",
        _A.store_credit_liability: "liability",
        _A.sales_revenue: "revenue",
        _A.shipping_revenue: "revenue",
        _A.refunds: "contra_revenue",
        _A.provider_fees: "expense",
        _A.voucher_expense: "expense",
    }
)

NORMAL_SIDE: Mapping[Account, Literal["debit", "credit"]] = MappingProxyType(
    {
        a: ("debit" if t in ("asset", "contra_revenue", "expense") else "credit")
        for a, t in ACCOUNT_TYPES.items()
    }
)

# Accounts kept per provider: payouts and fees are reconciled provider by provider.
PER_PROVIDER: frozenset[Account] = frozenset({_A.provider_clearing, _A.provider_fees})


class PostingKind(StrEnum):
    authorization_hold = "authorization_hold"
    authorization_release = "authorization_release"
    capture = "capture"
    store_credit_redemption = "store_credit_redemption"
    provider_fee = "provider_fee"
    refund = "refund"
    store_credit_issue = "store_credit_issue"
    payout = "payout"
    reversal = "reversal"


@dataclass(frozen=True, slots=True)
class Line:
    account: Account
    debit_minor: int
    credit_minor: int
    provider: str | None = None


def debit(account: Account, amount_minor: int, provider: str | None = None) -> Line:
    return Line(account, amount_minor, 0, provider)


def credit(account: Account, amount_minor: int, provider: str | None = None) -> Line:
    return Line(account, 0, amount_minor, provider)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unbalanced(detail: str) -> Invalid:
    return Invalid(detail, code="unbalanced_posting")


@dataclass(frozen=True, slots=True)
class Posting:
    """A balanced set of lines; checked on construction, so no unbalanced Posting exists."""

    posting_id: str
    kind: PostingKind
    lines: tuple[Line, ...]
    reference: str
    reverses: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.posting_id, str) and self.posting_id):
            raise Invalid("a posting needs an id", code="invalid_posting")
        if not (isinstance(self.reference, str) and self.reference):
            raise Invalid("a posting needs a reference", code="invalid_posting")
        if not isinstance(self.kind, PostingKind):
            raise Invalid(f"unknown posting kind {self.kind!r}", code="invalid_posting")
        if not isinstance(self.lines, tuple) or len(self.lines) < 2:
            raise _unbalanced(f"posting {self.posting_id} needs at least two lines")
        for line in self.lines:
            if not isinstance(line, Line) or not isinstance(line.account, Account):
                raise Invalid(
                    f"posting {self.posting_id}: not a ledger line: {line!r}", code="invalid_posting"
                )
            if not (_is_int(line.debit_minor) and _is_int(line.credit_minor)):
                raise _unbalanced(f"posting {self.posting_id}: amounts must be ints: {line!r}")
            if line.debit_minor < 0 or line.credit_minor < 0:
                raise _unbalanced(f"posting {self.posting_id}: negative amount on {line.account}")
            if (line.debit_minor > 0) == (line.credit_minor > 0):
                raise _unbalanced(
                    f"posting {self.posting_id}: a line on {line.account} must be a debit or a credit"
                )
            named = isinstance(line.provider, str) and bool(line.provider)
            if named != (line.account in PER_PROVIDER) or (line.provider is not None and not named):
                raise Invalid(
                    f"posting {self.posting_id}: {line.account} lines "
                    + ("need a provider" if line.account in PER_PROVIDER else "take no provider"),
                    code="invalid_posting",
                )
        debits = sum(line.debit_minor for line in self.lines)
        credits = sum(line.credit_minor for line in self.lines)
        if debits != credits:
            raise _unbalanced(f"posting {self.posting_id}: debits {debits} != credits {credits}")

    @property
    def total_minor(self) -> int:
        """Σ debits (= Σ credits)."""
        return sum(line.debit_minor for line in self.lines)


def posting(
    kind: PostingKind | str,
    lines: Iterable[Line],
    *,
    posting_id: str,
    reference: str,
    reverses: str | None = None,
) -> Posting:
    """A checked Posting (rules in the module docstring)."""
    try:
        checked_kind = PostingKind(kind)
    except ValueError:
        raise Invalid(f"unknown posting kind {kind!r}", code="invalid_posting") from None
    return Posting(posting_id, checked_kind, tuple(lines), reference, reverses)


@dataclass(frozen=True, slots=True)
class Split:
    """An amount broken into its revenue (net of discounts), tax and shipping parts."""

    revenue_minor: int
    tax_minor: int
    shipping_minor: int

    def __post_init__(self) -> None:
        for part in (self.revenue_minor, self.tax_minor, self.shipping_minor):
            if not (_is_int(part) and part >= 0):
                raise Invalid(f"split parts must be ints >= 0, got {self!r}", code="invalid_split")

    @property
    def total_minor(self) -> int:
        return self.revenue_minor + self.tax_minor + self.shipping_minor

    def __add__(self, other: Split) -> Split:
        return Split(
            self.revenue_minor + other.revenue_minor,
            self.tax_minor + other.tax_minor,
            self.shipping_minor + other.shipping_minor,
        )

    def __sub__(self, other: Split) -> Split:
        return Split(
            self.revenue_minor - other.revenue_minor,
            self.tax_minor - other.tax_minor,
            self.shipping_minor - other.shipping_minor,
        )


ZERO_SPLIT = Split(0, 0, 0)


def split_amount(amount_minor: int, basis: Split) -> Split:
    """Split ``amount_minor`` over ``basis`` by largest remainder; no part exceeds its basis.

    For a capture ``basis`` is what of the payment is still unrecognized; for a
    refund by amount, what was recognized and not yet refunded.
    """
    if not (_is_int(amount_minor) and 0 <= amount_minor <= basis.total_minor):
        raise Invalid(
            f"cannot split {amount_minor!r} over {basis.total_minor}",
            code="split_exceeds_basis",
        )
    # Largest remainder gives each part at most the ceiling of its pro-rata
    # share, and amount <= basis total keeps that ceiling within the part.
    revenue, tax, shipping = allocate(
        amount_minor, [basis.revenue_minor, basis.tax_minor, basis.shipping_minor]
    )
    return Split(revenue, tax, shipping)


def _positive(amount: int, what: str) -> None:
    if not (_is_int(amount) and amount > 0):
        raise Invalid(f"{what} must be a positive int of minor units, got {amount!r}", code="invalid_amount")


def _nonzero(lines: Iterable[Line]) -> list[Line]:
    # A split part of 0 (no tax, free shipping) is simply no line.
    return [line for line in lines if line.debit_minor or line.credit_minor]


def _recognition_lines(split: Split) -> list[Line]:
    return [
        credit(_A.sales_revenue, split.revenue_minor),
        credit(_A.tax_payable, split.tax_minor),
        credit(_A.shipping_revenue, split.shipping_minor),
    ]


def hold_posting(*, posting_id: str, reference: str, amount_minor: int) -> Posting:
    """A card authorization: the customer owes the amount; nothing is revenue yet."""
    _positive(amount_minor, "hold")
    lines = [debit(_A.customer_receivable, amount_minor), credit(_A.authorization_holds, amount_minor)]
    return posting(PostingKind.authorization_hold, lines, posting_id=posting_id, reference=reference)


def release_posting(*, posting_id: str, reference: str, amount_minor: int) -> Posting:
    """The uncaptured remainder of a hold given back (void or expiry)."""
    _positive(amount_minor, "release")
    lines = [debit(_A.authorization_holds, amount_minor), credit(_A.customer_receivable, amount_minor)]
    return posting(PostingKind.authorization_release, lines, posting_id=posting_id, reference=reference)


def store_credit_redemption_posting(*, posting_id: str, reference: str, split: Split) -> Posting:
    """Paying with store credit: the liability to the customer becomes revenue."""
    _positive(split.total_minor, "redemption")
    lines = [debit(_A.store_credit_liability, split.total_minor), *_recognition_lines(split)]
    return posting(
        PostingKind.store_credit_redemption, _nonzero(lines), posting_id=posting_id, reference=reference
    )


def capture_posting(
    *, posting_id: str, reference: str, method: str, split: Split, provider: str | None = None
) -> Posting:
    """Money captured: revenue, tax and shipping recognized; a card's hold consumed."""
    require_word("payment_method", method, PAYMENT_METHODS)
    if method == "store_credit":
        return store_credit_redemption_posting(posting_id=posting_id, reference=reference, split=split)
    _positive(split.total_minor, "capture")
    amount = split.total_minor
    lines = [debit(_A.provider_clearing, amount, provider), *_recognition_lines(split)]
    if method == "card":
        lines += [debit(_A.authorization_holds, amount), credit(_A.customer_receivable, amount)]
    return posting(PostingKind.capture, _nonzero(lines), posting_id=posting_id, reference=reference)


def fee_posting(*, posting_id: str, reference: str, provider: str, fee_minor: int) -> Posting:
    """The provider's fee, netted from what it owes us (callers skip a fee of 0)."""
    _positive(fee_minor, "fee")
    lines = [debit(_A.provider_fees, fee_minor, provider), credit(_A.provider_clearing, fee_minor, provider)]
    return posting(PostingKind.provider_fee, lines, posting_id=posting_id, reference=reference)


def refund_posting(
    *,
    posting_id: str,
    reference: str,
    split: Split,
    method: str,
    destination: Literal["original", "store_credit"] = "original",
    provider: str | None = None,
) -> Posting:
    """A refund: revenue, tax and shipping reversed; the money goes back through the
    provider, or to the customer's store credit (always so for a store-credit payment)."""
    require_word("payment_method", method, PAYMENT_METHODS)
    if destination not in ("original", "store_credit"):
        raise Invalid(
            f"refund destination must be original or store_credit, got {destination!r}",
            code="invalid_refund_destination",
        )
    _positive(split.total_minor, "refund")
    amount = split.total_minor
    lines = [
        debit(_A.refunds, split.revenue_minor),
        debit(_A.tax_payable, split.tax_minor),
        debit(_A.shipping_revenue, split.shipping_minor),
    ]
    if destination == "store_credit" or method == "store_credit":
        lines.append(credit(_A.store_credit_liability, amount))
    else:
        lines.append(credit(_A.provider_clearing, amount, provider))
    return posting(PostingKind.refund, _nonzero(lines), posting_id=posting_id, reference=reference)


def store_credit_issue_posting(*, posting_id: str, reference: str, amount_minor: int) -> Posting:
    """An admin's voucher: the store now owes the customer that much credit."""
    _positive(amount_minor, "voucher")
    lines = [debit(_A.voucher_expense, amount_minor), credit(_A.store_credit_liability, amount_minor)]
    return posting(PostingKind.store_credit_issue, lines, posting_id=posting_id, reference=reference)


def payout_posting(*, posting_id: str, reference: str, provider: str, amount_minor: int) -> Posting:
    """The provider paid out to the store's bank account."""
    _positive(amount_minor, "payout")
    lines = [debit(_A.bank, amount_minor), credit(_A.provider_clearing, amount_minor, provider)]
    return posting(PostingKind.payout, lines, posting_id=posting_id, reference=reference)


def reversal_posting(original: Posting, *, posting_id: str, reference: str) -> Posting:
    """Undo ``original`` exactly: the same lines with debit and credit swapped."""
    lines = [
        Line(line.account, line.credit_minor, line.debit_minor, line.provider) for line in original.lines
    ]
    return posting(
        PostingKind.reversal, lines, posting_id=posting_id, reference=reference, reverses=original.posting_id
    )


def balances(postings: Iterable[Posting]) -> dict[Account, int]:
    """Debit − credit per account touched (all providers together)."""
    totals: dict[Account, int] = {}
    for p in postings:
        for line in p.lines:
            totals[line.account] = totals.get(line.account, 0) + line.debit_minor - line.credit_minor
    return totals


def provider_balances(postings: Iterable[Posting]) -> dict[tuple[Account, str], int]:
    """Debit − credit per (per-provider account, provider)."""
    totals: dict[tuple[Account, str], int] = {}
    for p in postings:
        for line in p.lines:
            if line.provider is not None:
                key = (line.account, line.provider)
                totals[key] = totals.get(key, 0) + line.debit_minor - line.credit_minor
    return totals
