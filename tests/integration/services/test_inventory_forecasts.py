from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from tests.integration.conftest import open_writer
from tests.integration.services import (
    assert_rejected,
    db_snapshot,
    make_sku,
    make_warehouse,
    run,
    scalar,
)
from transactional.domain.access import Actor
from transactional.domain.errors import Invalid
from transactional.domain.forecast_alerts import MAX_ALERTS, ForecastAlert
from transactional.services import inventory as inv
from transactional.services import inventory_forecasts as svc
from transactional.storage.reads import inventory as reads

PIPELINE = Actor(role="pipeline", key_id="key_test_pipeline")
AS_OF = date(2026, 3, 2)  # the test clock's store-local day (2026-03-02 04:00 in New York)


def alert(sku_id: str, warehouse_id: str, kind: str = "stockout_forecast", **over: Any) -> ForecastAlert:
    fields: dict[str, Any] = {
        "sku_id": sku_id,
        "warehouse_id": warehouse_id,
        "kind": kind,
        "severity": "critical" if kind == "stockout_forecast" else "info",
        "abc_class": "A",
        "on_hand": 12,
        "reserved": 2,
        "available": 10,
        "incoming": 0,
        "daily_demand": Decimal("2.5000"),
        "days_of_cover": Decimal("4.0"),
        "forecast_stockout_date": AS_OF + timedelta(days=4) if kind == "stockout_forecast" else None,
        "suggested_reorder_quantity": 40 if kind == "stockout_forecast" else 0,
    }
    fields.update(over)
    return ForecastAlert(**fields)


def publish(writer, alerts, *, as_of=AS_OF, snapshot="snap_1"):
    return run(writer, lambda uow: svc.publish_forecast_alerts(uow, as_of, snapshot, alerts), PIPELINE)


def rows(writer, where: str = "true", order: str = "alert_id") -> list[dict[str, Any]]:
    cur = writer.con.execute(
        f"select * exclude (commit_seq) from stock_alerts where {where} order by {order}"
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture
def world(writer):
    skus = [make_sku(writer, f"FC-{i}")["sku_id"] for i in range(3)]
    east = make_warehouse(writer, "EAST")["warehouse_id"]
    # A core low-stock alert on the first SKU: 1 available under a reorder point of 5.
    run(writer, lambda uow: inv.adjust_stock(uow, skus[0], east, inv.AdjustStock(delta=1, reason="count")))
    run(
        writer,
        lambda uow: inv.set_reorder_point(
            uow, skus[0], east, inv.SetReorderPoint(reorder_point=5, reorder_quantity=10)
        ),
    )
    return skus, east


def test_publish_raises_pipeline_alerts_beside_core_ones(writer, clock, world):
    (a, b, _), east = world
    core_before = rows(writer, "source = 'core'")
    assert [(r["kind"], r["status"]) for r in core_before] == [("low_stock", "open")]
    assert core_before[0]["severity"] is None and core_before[0]["as_of"] is None

    answer = publish(writer, [alert(a, east), alert(b, east, "overstock", days_of_cover=Decimal("90.5"))])
    assert answer == {
        "as_of": AS_OF,
        "source_snapshot_id": "snap_1",
        "raised": 2,
        "updated": 0,
        "resolved": 0,
        "open": 2,
    }
    stockout, overstock = rows(writer, "source = 'pipeline'", order="kind desc")
    assert stockout["sku_id"] == a and stockout["kind"] == "stockout_forecast"
    assert (stockout["status"], stockout["raised_at"], stockout["updated_at"]) == (
        "open",
        clock.now(),
        clock.now(),
    )
    assert (stockout["available_at_raise"], stockout["reorder_point"]) == (10, None)
    assert stockout["daily_demand"] == Decimal("2.5000") and stockout["days_of_cover"] == Decimal("4.0")
    assert stockout["forecast_stockout_date"] == AS_OF + timedelta(days=4)
    assert (stockout["as_of"], stockout["source_snapshot_id"]) == (AS_OF, "snap_1")
    assert (overstock["kind"], overstock["days_of_cover"], overstock["forecast_stockout_date"]) == (
        "overstock",
        Decimal("90.5"),
        None,
    )
    assert rows(writer, "source = 'core'") == core_before

    audit = writer.con.execute(
        "select actor_key_id, target_type, details_json from audit_log "
        "where action = 'stock_alert.publish_forecasts'"
    ).fetchall()
    assert [(k, t) for k, t, _ in audit] == [("key_test_pipeline", "forecast_publication")]
    assert orjson.loads(audit[0][2])["raised"] == 2

    # One live list: filters by source and kind.
    cur = writer.con.cursor()
    assert {x["source"] for x in reads.list_alerts(cur, status="open")["items"]} == {"core", "pipeline"}
    assert [x["sku_id"] for x in reads.list_alerts(cur, kind="overstock")["items"]] == [b]
    assert [x["kind"] for x in reads.list_alerts(cur, source="core")["items"]] == ["low_stock"]
    for word in ({"kind": "soon"}, {"source": "dbt"}):
        with pytest.raises(Invalid, match="invalid"):
            reads.list_alerts(cur, **word)


def test_republish_updates_resolves_and_keeps_acknowledged(writer, clock, world):
    (a, b, c), east = world
    publish(writer, [alert(a, east), alert(b, east)])
    first_a = rows(writer, f"sku_id = '{a}' and source = 'pipeline'")[0]
    run(writer, lambda uow: inv.acknowledge_alert(uow, first_a["alert_id"]))
    core_before = rows(writer, "source = 'core'")

    clock.advance(timedelta(days=1))
    answer = publish(
        writer,
        [
            alert(a, east, severity="warning", on_hand=30, available=28, suggested_reorder_quantity=5),
            alert(c, east),
        ],
        as_of=AS_OF + timedelta(days=1),
        snapshot="snap_2",
    )
    assert (answer["raised"], answer["updated"], answer["resolved"], answer["open"]) == (1, 1, 1, 2)
    by_sku = {r["sku_id"]: r for r in rows(writer, "source = 'pipeline'")}
    assert by_sku[a]["alert_id"] == first_a["alert_id"]
    assert (by_sku[a]["status"], by_sku[a]["severity"], by_sku[a]["available"]) == (
        "acknowledged",
        "warning",
        28,
    )
    assert by_sku[a]["available_at_raise"] == 10  # what it was when first raised
    assert (by_sku[a]["raised_at"], by_sku[a]["updated_at"]) == (first_a["raised_at"], clock.now())
    assert (by_sku[b]["status"], by_sku[b]["resolved_at"]) == ("resolved", clock.now())
    assert by_sku[c]["status"] == "open"
    assert rows(writer, "source = 'core'") == core_before

    # An empty list resolves every live pipeline alert, still never a core one.
    answer = publish(writer, [], as_of=AS_OF + timedelta(days=1), snapshot="snap_3")
    assert (answer["raised"], answer["updated"], answer["resolved"], answer["open"]) == (0, 0, 2, 0)
    assert {r["status"] for r in rows(writer, "source = 'pipeline'")} == {"resolved"}
    assert rows(writer, "source = 'core'") == core_before

    # Raised again after it was resolved: a new alert, the resolved one is history.
    publish(writer, [alert(b, east)], as_of=AS_OF + timedelta(days=2), snapshot="snap_4")
    assert [r["status"] for r in rows(writer, f"sku_id = '{b}' and source = 'pipeline'")] == [
        "resolved",
        "open",
    ]


def test_replay_is_a_no_op_and_a_reused_snapshot_is_a_conflict(writer, world):
    (a, b, _), east = world
    first = publish(writer, [alert(a, east), alert(b, east)])
    before = db_snapshot(writer)
    # The same list in another order is the same publish.
    assert publish(writer, [alert(b, east), alert(a, east)]) == first
    assert db_snapshot(writer) == before

    other_list = [alert(a, east, suggested_reorder_quantity=41)]
    assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF, "snap_1", other_list),
        "forecast_snapshot_reused",
        kind="conflict",
        actor=PIPELINE,
    )
    assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF + timedelta(days=1), "snap_1", [alert(a, east)]),
        "forecast_snapshot_reused",
        kind="conflict",
    )


def test_stale_and_future_as_of_are_refused(writer, world):
    (a, _, _), east = world
    publish(writer, [alert(a, east)], as_of=AS_OF, snapshot="snap_new")
    error = assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF - timedelta(days=1), "snap_old", []),
        "stale_forecast",
        kind="conflict",
    )
    assert error.extra["latest_as_of"] == AS_OF
    # The same day again with a newer snapshot is applied (an intraday rerun).
    assert publish(writer, [], as_of=AS_OF, snapshot="snap_rerun")["resolved"] == 1
    # The store's tomorrow is accepted; the day after would make every later publish stale.
    assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF + timedelta(days=2), "snap_far", []),
        "as_of_in_future",
    )
    assert publish(writer, [], as_of=AS_OF + timedelta(days=1), snapshot="snap_tomorrow")["open"] == 0


def test_bad_alerts_are_all_listed_and_nothing_is_applied(writer, world):
    (a, b, c), east = world
    publish(writer, [alert(a, east)])
    bad_list = [
        alert(a, east),
        alert("sku_missing", east),
        alert(b, "whs_missing"),
        alert(a, east),  # duplicate of 0
        alert(c, east, available=11),
        alert(c, east, "overstock", daily_demand=Decimal(0)),  # cover without demand
        alert(b, east, forecast_stockout_date=None),
        alert(b, east, "overstock", forecast_stockout_date=AS_OF - timedelta(days=1)),
        alert(c, east, "low_stock", on_hand=-1, reserved=-1, available=0),
        alert(a, east, "overstock", daily_demand=Decimal("0.00001"), days_of_cover=None),
    ]
    error = assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF, "snap_2", bad_list),
        "invalid_alerts",
        kind="invalid",
    )
    found = {(e["index"], e["code"]) for e in error.extra["bad"]}
    assert {
        (1, "sku_not_found"),
        (2, "warehouse_not_found"),
        (3, "duplicate_alert"),
        (4, "available_mismatch"),
        (5, "days_of_cover_without_demand"),
        (6, "stockout_date_required"),
        (7, "stockout_date_before_as_of"),
        (8, "invalid_kind"),
        (8, "invalid_quantity"),
        (9, "invalid_daily_demand"),
    } == found
    assert error.detail.startswith("9 of 10 alerts")


def test_too_many_alerts(writer, world):
    (a, _, _), east = world
    many = [alert(a, east)] * (MAX_ALERTS + 1)
    error = assert_rejected(
        writer,
        lambda uow: svc.publish_forecast_alerts(uow, AS_OF, "snap_big", many),
        "too_many_alerts",
        kind="too_large",
    )
    assert error.extra == {"max_alerts": MAX_ALERTS, "received": MAX_ALERTS + 1}


def test_live_alerts_survive_a_restart_and_are_replaced_from_memory(writer, clock, tmp_path, world):
    (a, b, _), east = world
    publish(writer, [alert(a, east), alert(b, east)])
    writer.con.close()
    clock.advance(timedelta(seconds=1))
    reopened = open_writer(tmp_path, clock)
    try:
        answer = publish(reopened, [alert(b, east)], as_of=AS_OF, snapshot="snap_2")
        assert (answer["raised"], answer["updated"], answer["resolved"]) == (0, 1, 1)
        assert publish(reopened, [alert(a, east), alert(b, east)])["raised"] == 2  # replay of snap_1
        assert scalar(reopened, "select count(*) from forecast_publications") == 2
        # The replay answered the first publish's counts and changed nothing.
        assert {r["sku_id"]: r["status"] for r in rows(reopened, "source = 'pipeline'")} == {
            a: "resolved",
            b: "open",
        }
    finally:
        reopened.con.close()


def test_request_model_refuses_bad_shapes():
    good = {
        "sku_id": "sku_1",
        "warehouse_id": "whs_1",
        "kind": "overstock",
        "severity": "info",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
        "incoming": 0,
        "daily_demand": "0.1234",
        "days_of_cover": 40.5,
        "suggested_reorder_quantity": 0,
    }
    parsed = svc.ForecastAlertIn.model_validate(good).to_domain()
    assert parsed.daily_demand == Decimal("0.1234") and parsed.days_of_cover == Decimal("40.5")
    assert parsed.abc_class is None and parsed.forecast_stockout_date is None
    for change in (
        {"kind": "low_stock"},
        {"severity": "urgent"},
        {"abc_class": "D"},
        {"on_hand": -1},
        {"incoming": "3"},
        {"reserved": 1.5},
        {"daily_demand": "0.12345"},
        {"daily_demand": "-1"},
        {"days_of_cover": "1.25"},
        {"suggested_reorder_quantity": -5},
        {"note": "extra"},
    ):
        with pytest.raises(ValidationError):
            svc.ForecastAlertIn.model_validate({**good, **change})
    with pytest.raises(ValidationError):
        svc.PublishForecastAlerts.model_validate(
            {"as_of": "2026-03-02", "source_snapshot_id": "bad id!", "alerts": []}
        )
