"""The ground truth counts a card sale whose hold expired before dispatch as a cancellation return."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from transactional.demo.truth import GroundTruth

ORDER = {
    "order_id": "ord_1",
    "gross_minor": 5000,
    "discount_minor": 500,
    "net_minor": 4500,
    "tax_minor": 270,
    "shipping_minor": 499,
    "total_minor": 5269,
    "lines": [{"sku_id": "sku_1", "quantity": 2}],
}


def test_an_expired_hold_is_a_return_of_the_whole_net_on_the_expiry_day() -> None:
    truth = GroundTruth("America/New_York")
    truth.order_paid(ORDER, datetime(2026, 11, 7, 20, tzinfo=UTC), "card")
    # 02:00 UTC on the 15th is still the 14th in New York.
    truth.hold_expired("ord_1", datetime(2026, 11, 15, 2, tzinfo=UTC))

    sale, expiry = truth.days[date(2026, 11, 7)], truth.days[date(2026, 11, 14)]
    assert (sale["gross_minor"], sale["returns_minor"]) == (5000, 0)
    assert (expiry["cancellations"], expiry["cancelled_minor"], expiry["returns_minor"]) == (1, 5269, 4500)
    assert expiry["refunds"] == 0 and expiry["refunded_minor"] == 0


def test_only_a_card_sale_can_expire_and_only_once() -> None:
    truth = GroundTruth("America/New_York")
    truth.order_paid({**ORDER, "order_id": "ord_2"}, datetime(2026, 11, 7, 20, tzinfo=UTC), "alipay")
    with pytest.raises(KeyError):
        truth.hold_expired("ord_2", datetime(2026, 11, 15, tzinfo=UTC))
    truth.order_paid(ORDER, datetime(2026, 11, 7, 20, tzinfo=UTC), "card")
    truth.hold_expired("ord_1", datetime(2026, 11, 15, tzinfo=UTC))
    with pytest.raises(KeyError):
        truth.hold_expired("ord_1", datetime(2026, 11, 15, tzinfo=UTC))
