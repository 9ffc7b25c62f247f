from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from transactional.domain import forecast_alerts as fa

AS_OF = date(2026, 3, 2)
BASE = fa.ForecastAlert(
    sku_id="sku_1",
    warehouse_id="whs_1",
    kind="stockout_forecast",
    severity="critical",
    abc_class="A",
    on_hand=10,
    reserved=4,
    available=6,
    incoming=20,
    daily_demand=Decimal("1.5"),
    days_of_cover=Decimal("4.0"),
    forecast_stockout_date=AS_OF + timedelta(days=4),
    suggested_reorder_quantity=30,
)


def codes(*alerts: fa.ForecastAlert) -> list[tuple[int, str, str]]:
    return [(b.index, b.code, b.field) for b in fa.check_alerts(AS_OF, alerts)]


def test_a_consistent_alert_passes():
    assert codes(BASE) == []
    overstock = replace(BASE, kind="overstock", severity="info", forecast_stockout_date=None)
    assert codes(BASE, overstock) == []
    no_demand = replace(overstock, daily_demand=Decimal(0), days_of_cover=None, abc_class=None)
    assert codes(no_demand) == []
    assert codes(replace(BASE, forecast_stockout_date=AS_OF)) == []  # stocks out today


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kind": "low_stock"}, [(0, "invalid_kind", "kind")]),
        ({"severity": "high"}, [(0, "invalid_severity", "severity")]),
        ({"abc_class": "a"}, [(0, "invalid_abc_class", "abc_class")]),
        ({"incoming": -1}, [(0, "invalid_quantity", "incoming")]),
        ({"suggested_reorder_quantity": True}, [(0, "invalid_quantity", "suggested_reorder_quantity")]),
        ({"available": 7}, [(0, "available_mismatch", "available")]),
        ({"reserved": 11, "available": -1}, [(0, "invalid_quantity", "available")]),
        ({"daily_demand": Decimal("-0.5")}, [(0, "invalid_daily_demand", "daily_demand")]),
        ({"daily_demand": Decimal("0.00001")}, [(0, "invalid_daily_demand", "daily_demand")]),
        ({"daily_demand": Decimal("NaN")}, [(0, "invalid_daily_demand", "daily_demand")]),
        ({"daily_demand": Decimal("1e14")}, [(0, "invalid_daily_demand", "daily_demand")]),
        ({"days_of_cover": None}, [(0, "days_of_cover_required", "days_of_cover")]),
        ({"days_of_cover": Decimal("4.05")}, [(0, "invalid_days_of_cover", "days_of_cover")]),
        (
            {"daily_demand": Decimal(0)},
            [(0, "days_of_cover_without_demand", "days_of_cover")],
        ),
        ({"forecast_stockout_date": None}, [(0, "stockout_date_required", "forecast_stockout_date")]),
        (
            {"forecast_stockout_date": AS_OF - timedelta(days=1)},
            [(0, "stockout_date_before_as_of", "forecast_stockout_date")],
        ),
    ],
)
def test_each_broken_rule_is_named(change, expected):
    assert codes(replace(BASE, **change)) == expected


def test_duplicates_and_indexes():
    other = replace(BASE, warehouse_id="whs_2")
    assert codes(BASE, other, BASE, replace(BASE, available=1)) == [
        (2, "duplicate_alert", "kind"),
        (3, "available_mismatch", "available"),
        (3, "duplicate_alert", "kind"),
    ]
    # Another kind for the same SKU × warehouse is another alert.
    assert codes(BASE, replace(BASE, kind="overstock")) == []


def test_replace_plan():
    a, b, c = ("s", "w", "stockout_forecast"), ("s", "w", "overstock"), ("t", "w", "overstock")
    assert fa.replace_plan({a, b}, [b, c]) == ({c}, {b}, {a})
    assert fa.replace_plan({a}, []) == (set(), set(), {a})
    assert fa.replace_plan([], [a]) == ({a}, set(), set())


def test_fingerprint_ignores_order_and_trailing_zeros_only():
    other = replace(BASE, sku_id="sku_2")
    assert fa.fingerprint([BASE, other]) == fa.fingerprint([other, BASE])
    assert fa.fingerprint([BASE]) == fa.fingerprint([replace(BASE, daily_demand=Decimal("1.5000"))])
    assert fa.fingerprint([BASE]) != fa.fingerprint([replace(BASE, suggested_reorder_quantity=31)])
    assert fa.fingerprint([BASE]) != fa.fingerprint([replace(BASE, abc_class=None)])
    assert fa.fingerprint([]) != fa.fingerprint([BASE])


def test_count_limit():
    fa.check_count(fa.MAX_ALERTS)
    with pytest.raises(fa.TooManyAlerts) as info:
        fa.check_count(fa.MAX_ALERTS + 1)
    assert (info.value.kind, info.value.code) == ("too_large", "too_many_alerts")


def test_core_alerts_leave_the_pipeline_columns_null():
    assert fa.empty_pipeline_columns() == dict.fromkeys(fa.PIPELINE_COLUMNS)
    assert "source" not in fa.PIPELINE_COLUMNS and "reorder_point" not in fa.PIPELINE_COLUMNS
