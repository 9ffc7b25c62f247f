"""The forecast inventory alerts (mart_inventory_alerts, BEY-5) agree with the store file.

Runs on the shared small demo store (``built`` in conftest.py). The whole alert
list is recomputed here, independently of the mart's SQL: stock, incoming and
demand with plain SQL on the store file (stock levels; purchase-order lines
less what the receipt journal says arrived; shipments and end-of-day stock
from the movement journal by store-local day), and the rules in Python with
exact fractions. Only the ABC class is read from mart_inventory_sku, whose
revenue ranking test_inventory_marts.py already checks against the store.
The thresholds come from dbt_project.yml, so a retuned var moves both sides.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # dbt-core's own dependency

from tests.integration.analytics.queries import TIMEZONE, from_store, from_warehouse

PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"

# The columns the API's POST /api/v1/alerts/forecasts takes, in order, with their types.
CONTRACT = [
    ("alert_id", "VARCHAR"),
    ("as_of_date", "DATE"),
    ("sku_id", "VARCHAR"),
    ("warehouse_id", "VARCHAR"),
    ("product_id", "VARCHAR"),
    ("category_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("abc_class", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("on_hand", "BIGINT"),
    ("reserved", "BIGINT"),
    ("available", "BIGINT"),
    ("incoming", "BIGINT"),
    ("daily_demand", "DECIMAL(18,4)"),
    ("days_of_cover", "DECIMAL(18,1)"),
    ("forecast_stockout_date", "DATE"),
    ("lead_time_days", "INTEGER"),
    ("suggested_reorder_quantity", "BIGINT"),
    ("reorder_point", "BIGINT"),
]


def _vars() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]


def _half_up(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(math.floor(value * scale + Fraction(1, 2)), scale)


def _decimal(value: Fraction) -> Decimal:
    # Exact: the fractions here have denominators 10 or 10,000.
    return Decimal(value.numerator) / Decimal(value.denominator)


def _as_of_date(built: Path) -> date:
    # The snapshot's last store-local day: the later of the journal's and the levels' last day.
    return from_store(
        built,
        """
        select greatest(
            (select max(cast(occurred_at at time zone ? as date)) from stock_movements),
            (select max(cast(updated_at at time zone ? as date)) from stock_levels)
        )
        """,
        [TIMEZONE, TIMEZONE],
    )[0][0]


def _window_demand(built: Path, as_of: date, window_days: int) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(window days, days not ending in a stockout, units shipped) per SKU × warehouse, over the
    complete days before as_of, from the pair's first movement on."""
    rows = from_store(
        built,
        """
        with moves as (
            select sku_id, warehouse_id, kind, on_hand_delta, reserved_delta,
                   cast(occurred_at at time zone ? as date) as local_day
            from stock_movements
        ),
        pairs as (
            select sku_id, warehouse_id, min(local_day) as first_day from moves group by all
        ),
        window_days as (
            select p.sku_id, p.warehouse_id, cast(d.day as date) as day
            from pairs as p,
                generate_series(
                    greatest(cast(p.first_day as timestamp), cast(? as date) - interval (?) day),
                    cast(? as date) - interval 1 day,
                    interval 1 day
                ) as d(day)
        ),
        end_of_day as (
            select w.sku_id, w.warehouse_id, w.day,
                   sum(m.on_hand_delta) - sum(m.reserved_delta) as available,
                   -sum(m.on_hand_delta) filter (where m.kind = 'shipment' and m.local_day = w.day)
                       as shipped
            from window_days as w
            join moves as m
              on m.sku_id = w.sku_id and m.warehouse_id = w.warehouse_id and m.local_day <= w.day
            group by all
        )
        select sku_id, warehouse_id, count(*), count(*) filter (where available > 0),
               coalesce(sum(shipped), 0)
        from end_of_day
        group by all
        """,
        [TIMEZONE, as_of, window_days, as_of],
    )
    return {(sku, wh): (days, in_stock, int(shipped)) for sku, wh, days, in_stock, shipped in rows}


def _incoming(built: Path) -> dict[tuple[str, str], int]:
    # Ordered on purchase orders that can still be received, less what the receipt journal received.
    rows = from_store(
        built,
        """
        with received as (
            select purchase_order_line_id, sum(quantity) as quantity
            from purchase_receipt_lines
            group by all
        )
        select l.sku_id, p.warehouse_id, sum(l.quantity_ordered - coalesce(r.quantity, 0))
        from purchase_order_lines as l
        join purchase_orders as p using (purchase_order_id)
        left join received as r using (purchase_order_line_id)
        where p.status in ('open', 'partially_received')
        group by all
        """,
    )
    return {(sku, wh): int(qty) for sku, wh, qty in rows}


def _lead_times(built: Path) -> dict[str, int]:
    # The supplier a SKU was last ordered from, and its lead time.
    rows = from_store(
        built,
        """
        select l.sku_id, s.lead_time_days
        from purchase_order_lines as l
        join purchase_orders as p using (purchase_order_id)
        join suppliers as s using (supplier_id)
        qualify row_number() over (
            partition by l.sku_id order by p.created_at desc, p.purchase_order_id desc
        ) = 1
        """,
    )
    return dict(rows)


def _expected_alerts(built: Path) -> dict[str, tuple[Any, ...]]:
    settings = _vars()
    review = settings["alerts_review_period_days"]
    safety = settings["alerts_safety_days"]
    ceiling = settings["alerts_overstock_ceiling_days"]
    factor = settings["alerts_overstock_warning_factor"]
    as_of = _as_of_date(built)
    demand_of = _window_demand(built, as_of, settings["alerts_demand_window_days"])
    incoming_of = _incoming(built)
    lead_of = _lead_times(built)
    abc_of = dict(from_warehouse(built, "select sku_id, abc_class from mart_inventory_sku"))
    levels = from_store(
        built,
        """
        select l.sku_id, l.warehouse_id, k.product_id, p.category_id, k.status,
               l.on_hand, l.reserved, l.reorder_point, l.reorder_quantity
        from stock_levels as l
        join skus as k using (sku_id)
        join products as p using (product_id)
        """,
    )
    expected: dict[str, tuple[Any, ...]] = {}
    for sku, wh, product, category, status, on_hand, reserved, reorder_point, reorder_qty in levels:
        days, in_stock, shipped = demand_of.get((sku, wh), (0, 0, 0))
        if days == 0:
            continue  # no complete day of history: no verdict
        demand = _half_up(Fraction(shipped, in_stock or days), 4)
        abc = abc_of.get(sku) or "C"
        lead = lead_of.get(sku, settings["alerts_default_lead_time_days"])
        available = on_hand - reserved
        incoming = incoming_of.get((sku, wh), 0)
        supply = available + incoming
        target = lead + review + safety[abc]
        cover = Fraction(supply) / demand if demand else None
        alerts: list[tuple[str, str, date | None, int]] = []
        if demand and status == "active" and supply < target * demand:
            severity = "critical" if supply < lead * demand else "warning"
            assert cover is not None
            runs_out = as_of + timedelta(days=math.floor(cover))
            alerts.append(("stockout_forecast", severity, runs_out, math.ceil(target * demand - supply)))
        over_ceiling = demand > 0 and supply > ceiling[abc] * demand
        if supply > reorder_point + reorder_qty and (over_ceiling or (demand == 0 and supply > 0)):
            severity = "warning" if demand == 0 or supply > factor * ceiling[abc] * demand else "info"
            alerts.append(("overstock", severity, None, 0))
        for kind, severity, stockout, reorder in alerts:
            alert_id = f"{sku}|{wh}|{kind}"
            expected[alert_id] = (
                as_of, sku, wh, product, category, kind, abc, severity,
                on_hand, reserved, available, incoming,
                _decimal(demand),
                None if cover is None else _decimal(_half_up(cover, 1)),
                stockout, lead, reorder, reorder_point,
            )  # fmt: skip
    return expected


@pytest.fixture(scope="module")
def mart(built: Path) -> dict[str, tuple[Any, ...]]:
    rows = from_warehouse(built, f"select {', '.join(c for c, _ in CONTRACT)} from mart_inventory_alerts")
    return {row[0]: row[1:] for row in rows}


def test_columns_are_the_api_contract(built: Path) -> None:
    columns = from_warehouse(
        built,
        """
        select column_name, data_type from information_schema.columns
        where table_name = 'mart_inventory_alerts' order by ordinal_position
        """,
    )
    assert columns == CONTRACT


def test_alert_list_matches_the_store(built: Path, mart: dict[str, tuple[Any, ...]]) -> None:
    expected = _expected_alerts(built)
    assert mart.keys() == expected.keys()
    wrong = {key: (mart[key], expected[key]) for key in expected if mart[key] != expected[key]}
    assert not wrong, list(wrong.items())[:3]


def test_store_exercises_every_rule(mart: dict[str, tuple[Any, ...]]) -> None:
    # The 12-day store runs low and holds too much, so the comparison above is not vacuous:
    # both kinds, both stockout severities, and stockout forecasts netting incoming goods.
    outcomes = {(row[5], row[7]) for row in mart.values()}
    assert {("stockout_forecast", "critical"), ("stockout_forecast", "warning")} <= outcomes
    assert any(kind == "overstock" for kind, _ in outcomes)
    assert any(row[5] == "stockout_forecast" and row[11] > 0 for row in mart.values())
    assert len({row[0] for row in mart.values()}) == 1  # one as_of_date


def test_spot_check_a_stockout_forecast_by_hand(built: Path, mart: dict[str, tuple[Any, ...]]) -> None:
    # The stockout forecast with the most incoming goods, re-derived from its own columns: cover,
    # date and reorder follow from available + incoming and the published daily demand.
    settings = _vars()
    alert_id, row = max(
        ((k, r) for k, r in mart.items() if r[5] == "stockout_forecast"),
        key=lambda item: (item[1][11], item[0]),
    )
    (as_of, sku, wh, _, _, _, abc, severity, on_hand, reserved, available, incoming, demand, cover, stockout,
     lead, reorder, _) = row  # fmt: skip
    level = from_store(
        built, "select on_hand, reserved from stock_levels where sku_id = ? and warehouse_id = ?", [sku, wh]
    )
    assert level == [(on_hand, reserved)]
    assert available == on_hand - reserved
    open_lines = from_store(
        built,
        """
        select sum(l.quantity_ordered - l.quantity_received)
        from purchase_order_lines as l join purchase_orders as p using (purchase_order_id)
        where l.sku_id = ? and p.warehouse_id = ? and p.status in ('open', 'partially_received')
        """,
        [sku, wh],
    )
    assert open_lines == [(incoming,)] and incoming > 0
    supply = available + incoming
    target = lead + settings["alerts_review_period_days"] + settings["alerts_safety_days"][abc]
    assert supply < target * demand
    assert (severity == "critical") == (supply < lead * demand)
    assert stockout == as_of + timedelta(days=math.floor(Fraction(supply) / Fraction(demand)))
    assert abs(cover - Decimal(supply) / demand) <= Decimal("0.05")
    assert reorder == math.ceil(target * demand - supply) > 0, alert_id
