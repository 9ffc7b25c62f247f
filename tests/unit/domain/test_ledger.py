import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Invalid
from transactional.domain.ledger import (
    ACCOUNT_TYPES,
    NORMAL_SIDE,
    ZERO_SPLIT,
    Account,
    Line,
    Posting,
    PostingKind,
    Split,
    balances,
    capture_posting,
    credit,
    debit,
    fee_posting,
    hold_posting,
    payout_posting,
    posting,
    provider_balances,
    refund_posting,
    release_posting,
    reversal_posting,
    split_amount,
    store_credit_issue_posting,
    store_credit_redemption_posting,
)
from transactional.domain.money import currency_exponent
from transactional.domain.payments import capture_fee

A = Account


def lines_of(p: Posting) -> set[tuple[Account, int, int, str | None]]:
    return {(line.account, line.debit_minor, line.credit_minor, line.provider) for line in p.lines}


# -- postings -----------------------------------------------------------------------


def test_posting_accepts_a_balanced_set():
    p = posting(
        "capture",
        [
            debit(A.provider_clearing, 1000, "sandbox"),
            credit(A.sales_revenue, 900),
            credit(A.tax_payable, 100),
        ],
        posting_id="pst_1",
        reference="pay_1",
    )
    assert p.kind is PostingKind.capture and p.total_minor == 1000 and p.reverses is None


@pytest.mark.parametrize(
    "lines, code",
    [
        ([debit(A.bank, 100), credit(A.sales_revenue, 99)], "unbalanced_posting"),
        ([debit(A.bank, 0)], "unbalanced_posting"),
        ([], "unbalanced_posting"),
        ([debit(A.bank, 100)], "unbalanced_posting"),
        ([Line(A.bank, -100, 0), Line(A.sales_revenue, 0, -100)], "unbalanced_posting"),
        ([Line(A.bank, 100, 100), credit(A.sales_revenue, 0)], "unbalanced_posting"),
        ([Line(A.bank, 100, 50), credit(A.sales_revenue, 50)], "unbalanced_posting"),
        ([debit(A.bank, 100), credit(A.sales_revenue, 100), Line(A.refunds, 0, 0)], "unbalanced_posting"),
        ([Line(A.bank, 1.5, 0), credit(A.sales_revenue, 1.5)], "unbalanced_posting"),  # type: ignore[arg-type]
        ([Line(A.bank, True, 0), credit(A.sales_revenue, 1)], "unbalanced_posting"),
        ([debit(A.provider_clearing, 100), credit(A.sales_revenue, 100)], "invalid_posting"),
        ([debit(A.bank, 100, "sandbox"), credit(A.sales_revenue, 100)], "invalid_posting"),
        ([debit(A.provider_fees, 100, ""), credit(A.bank, 100)], "invalid_posting"),
        ([Line("bank", 100, 0), credit(A.sales_revenue, 100)], "invalid_posting"),  # type: ignore[arg-type]
    ],
)
def test_posting_refuses(lines, code):
    with pytest.raises(Invalid) as err:
        posting("capture", lines, posting_id="pst_1", reference="pay_1")
    assert err.value.code == code


def test_posting_needs_kind_id_and_reference():
    good = [debit(A.bank, 1), credit(A.sales_revenue, 1)]
    for kwargs in [
        {"kind": "teleport", "posting_id": "p", "reference": "r"},
        {"kind": "capture", "posting_id": "", "reference": "r"},
        {"kind": "capture", "posting_id": "p", "reference": ""},
    ]:
        kind = kwargs.pop("kind")
        with pytest.raises(Invalid) as err:
            posting(kind, good, **kwargs)
        assert err.value.code == "invalid_posting"


def test_posting_cannot_be_built_unbalanced_directly():
    with pytest.raises(Invalid) as err:
        Posting("p", PostingKind.capture, (debit(A.bank, 2), credit(A.sales_revenue, 1)), "r")
    assert err.value.code == "unbalanced_posting"


def test_chart_of_accounts():
    assert set(ACCOUNT_TYPES) == set(Account) == set(NORMAL_SIDE)
    assert NORMAL_SIDE[A.refunds] == "debit"  # contra-revenue
    assert NORMAL_SIDE[A.sales_revenue] == NORMAL_SIDE[A.store_credit_liability] == "credit"
    assert NORMAL_SIDE[A.provider_clearing] == NORMAL_SIDE[A.provider_fees] == "debit"
    assert ACCOUNT_TYPES[A.authorization_holds] == "memo"


# -- splits: hand-computed to the unit ----------------------------------------------------


def test_capture_split_usd():
    # An order of 91.40 USD: 80.00 net revenue, 6.40 tax, 5.00 shipping.
    order = Split(8000, 640, 500)
    # 30.00 captured: 2625.82 / 210.07 / 164.11 → floors 2625 + 210 + 164 = 2999;
    # the leftover cent goes to the largest remainder (revenue, .82).
    first = split_amount(3000, order)
    assert first == Split(2626, 210, 164)
    # The rest is split over what is still unrecognized, and is exactly that.
    second = split_amount(6140, order - first)
    assert second == Split(5374, 430, 336)
    assert first + second == order
    # 10.00 of the same order: 875.27 / 70.02 / 54.70 → the leftover cent to shipping.
    assert split_amount(1000, order) == Split(875, 70, 55)
    # A half is exact.
    assert split_amount(4570, order) == Split(4000, 320, 250)


def test_capture_split_jpy():
    # A tax-inclusive JPY order of 10,000 yen at 10 %: 909 tax, 9,091 net, free shipping.
    order = Split(9091, 909, 0)
    # 3,333 yen: 3030.03 / 302.97 / 0 → the leftover yen goes to tax (.97).
    first = split_amount(3333, order)
    assert first == Split(3030, 303, 0)
    assert split_amount(6667, order - first) == Split(6061, 606, 0)


def test_split_refuses_more_than_its_basis():
    with pytest.raises(Invalid) as err:
        split_amount(9141, Split(8000, 640, 500))
    assert err.value.code == "split_exceeds_basis"
    with pytest.raises(Invalid):
        split_amount(-1, Split(1, 0, 0))
    assert split_amount(0, ZERO_SPLIT) == ZERO_SPLIT
    with pytest.raises(Invalid) as err:
        Split(1, 2, 3) - Split(2, 0, 0)
    assert err.value.code == "invalid_split"


@given(
    parts=st.tuples(st.integers(0, 10**7), st.integers(0, 10**6), st.integers(0, 10**5)),
    cuts=st.lists(st.integers(1, 10**6), max_size=6),
)
def test_successive_splits_never_overshoot_and_close_exactly(parts, cuts):
    basis = Split(*parts)
    recognized = ZERO_SPLIT
    for cut in cuts:
        remaining = basis - recognized
        amount = min(cut, remaining.total_minor)
        share = split_amount(amount, remaining)
        assert share.total_minor == amount
        # ``basis - recognized`` refuses a negative part, so no part ever overshoots.
        recognized = recognized + share
    last = split_amount((basis - recognized).total_minor, basis - recognized)
    assert recognized + last == basis


# -- builders --------------------------------------------------------------------------


def test_card_capture_recognizes_revenue_and_consumes_the_hold():
    hold = hold_posting(posting_id="p1", reference="pay_1", amount_minor=9140)
    assert lines_of(hold) == {(A.customer_receivable, 9140, 0, None), (A.authorization_holds, 0, 9140, None)}
    assert balances([hold]).get(A.sales_revenue) is None  # an authorization is not revenue

    cap = capture_posting(
        posting_id="p2", reference="pay_1", method="card", split=Split(2626, 210, 164), provider="sandbox"
    )
    assert cap.kind is PostingKind.capture
    assert lines_of(cap) == {
        (A.provider_clearing, 3000, 0, "sandbox"),
        (A.sales_revenue, 0, 2626, None),
        (A.tax_payable, 0, 210, None),
        (A.shipping_revenue, 0, 164, None),
        (A.authorization_holds, 3000, 0, None),
        (A.customer_receivable, 0, 3000, None),
    }
    fee = fee_posting(
        posting_id="p3", reference="pay_1", provider="sandbox", fee_minor=capture_fee("card", 0, 3000, 2)
    )
    assert lines_of(fee) == {(A.provider_fees, 117, 0, "sandbox"), (A.provider_clearing, 0, 117, "sandbox")}
    release = release_posting(posting_id="p4", reference="pay_1", amount_minor=6140)

    bal = balances([hold, cap, fee, release])
    assert bal == {
        A.customer_receivable: 0,
        A.authorization_holds: 0,
        A.provider_clearing: 3000 - 117,
        A.sales_revenue: -2626,
        A.tax_payable: -210,
        A.shipping_revenue: -164,
        A.provider_fees: 117,
    }
    assert sum(bal.values()) == 0
    assert provider_balances([hold, cap, fee, release]) == {
        (A.provider_clearing, "sandbox"): 2883,
        (A.provider_fees, "sandbox"): 117,
    }


def test_wallet_capture_has_no_hold_and_skips_zero_parts():
    cap = capture_posting(
        posting_id="p", reference="pay_1", method="alipay", split=Split(10_000, 0, 0), provider="sandbox"
    )
    assert lines_of(cap) == {(A.provider_clearing, 10_000, 0, "sandbox"), (A.sales_revenue, 0, 10_000, None)}


def test_capture_needs_a_provider_and_a_known_method():
    with pytest.raises(Invalid) as err:
        capture_posting(posting_id="p", reference="r", method="card", split=Split(1, 0, 0))
    assert err.value.code == "invalid_posting"
    with pytest.raises(Invalid) as err:
        capture_posting(posting_id="p", reference="r", method="cash", split=Split(1, 0, 0), provider="x")
    assert err.value.code == "invalid_payment_method"
    with pytest.raises(Invalid) as err:
        capture_posting(posting_id="p", reference="r", method="card", split=ZERO_SPLIT, provider="x")
    assert err.value.code == "invalid_amount"


def test_refund_to_original_and_to_store_credit():
    split = Split(875, 70, 55)
    back = refund_posting(posting_id="p", reference="rf_1", split=split, method="card", provider="sandbox")
    assert back.kind is PostingKind.refund
    assert lines_of(back) == {
        (A.refunds, 875, 0, None),
        (A.tax_payable, 70, 0, None),
        (A.shipping_revenue, 55, 0, None),
        (A.provider_clearing, 0, 1000, "sandbox"),
    }
    to_credit = refund_posting(
        posting_id="p",
        reference="rf_2",
        split=split,
        method="card",
        destination="store_credit",
        provider="sandbox",
    )
    assert (A.store_credit_liability, 0, 1000, None) in lines_of(to_credit)
    assert not any(line.account is A.provider_clearing for line in to_credit.lines)
    # A store-credit payment is always refunded to store credit; no provider involved.
    sc = refund_posting(posting_id="p", reference="rf_3", split=split, method="store_credit")
    assert (A.store_credit_liability, 0, 1000, None) in lines_of(sc)
    with pytest.raises(Invalid) as err:
        refund_posting(posting_id="p", reference="r", split=split, method="card", destination="cash")  # type: ignore[arg-type]
    assert err.value.code == "invalid_refund_destination"


def test_store_credit_issue_and_redemption():
    voucher = store_credit_issue_posting(posting_id="p1", reference="v_1", amount_minor=5000)
    assert lines_of(voucher) == {
        (A.voucher_expense, 5000, 0, None),
        (A.store_credit_liability, 0, 5000, None),
    }
    redeem = store_credit_redemption_posting(posting_id="p2", reference="pay_1", split=Split(3000, 240, 0))
    assert redeem.kind is PostingKind.store_credit_redemption
    assert (
        capture_posting(posting_id="p2", reference="pay_1", method="store_credit", split=Split(3000, 240, 0))
        == redeem
    )
    assert balances([voucher, redeem])[A.store_credit_liability] == -(5000 - 3240)


def test_payout_and_reversal():
    out = payout_posting(posting_id="p1", reference="po_1", provider="sandbox", amount_minor=2883)
    assert lines_of(out) == {(A.bank, 2883, 0, None), (A.provider_clearing, 0, 2883, "sandbox")}
    undo = reversal_posting(out, posting_id="p2", reference="correction")
    assert (undo.kind, undo.reverses) == (PostingKind.reversal, "p1")
    assert lines_of(undo) == {(A.bank, 0, 2883, None), (A.provider_clearing, 2883, 0, "sandbox")}
    assert all(v == 0 for v in balances([out, undo]).values())


@pytest.mark.parametrize(
    "builder",
    [hold_posting, release_posting, store_credit_issue_posting],
)
@pytest.mark.parametrize("amount", [0, -1, True])
def test_builders_refuse_non_positive_amounts(builder, amount):
    with pytest.raises(Invalid) as err:
        builder(posting_id="p", reference="r", amount_minor=amount)
    assert err.value.code == "invalid_amount"


def test_fee_posting_refuses_zero():
    with pytest.raises(Invalid):
        fee_posting(posting_id="p", reference="r", provider="sandbox", fee_minor=0)


def test_jpy_captures_with_fees_balance_to_the_yen():
    exponent = currency_exponent("JPY")
    order = Split(9091, 909, 0)
    unrecognized, captured, postings = order, 0, []
    for i, amount in enumerate([3333, 6667]):
        share = split_amount(amount, unrecognized)
        unrecognized = unrecognized - share
        fee = capture_fee("card", captured, amount, exponent)
        captured += amount
        postings.append(
            capture_posting(
                posting_id=f"c{i}", reference="pay_1", method="card", split=share, provider="sandbox"
            )
        )
        postings.append(fee_posting(posting_id=f"f{i}", reference="pay_1", provider="sandbox", fee_minor=fee))
    assert unrecognized == ZERO_SPLIT
    bal = balances(postings)
    assert (bal[A.sales_revenue], bal[A.tax_payable]) == (-9091, -909)
    assert bal[A.provider_fees] == 97 + 193 == 290  # 2.9 % of 10,000 yen + 0.3 yen, rounded once
    assert bal[A.provider_clearing] == 10_000 - 290
