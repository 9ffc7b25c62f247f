from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.integration.conftest import open_writer
from tests.integration.services import (
    assert_journal_matches_levels,
    assert_rejected,
    make_sku,
    make_warehouse,
    run,
    scalar,
)
from transactional.domain import stock
from transactional.services import inventory as svc
from transactional.services.stock_journal import move_stock
from transactional.storage.reads import inventory as reads


def _adjust(writer, sku_id, warehouse_id, delta, reason="cycle count"):
    cmd = svc.AdjustStock(delta=delta, reason=reason)
    return run(writer, lambda uow: svc.adjust_stock(uow, sku_id, warehouse_id, cmd))


def _reorder(writer, sku_id, warehouse_id, point, quantity=10):
    cmd = svc.SetReorderPoint(reorder_point=point, reorder_quantity=quantity)
    return run(writer, lambda uow: svc.set_reorder_point(uow, sku_id, warehouse_id, cmd))


def _alerts(writer, sku_id):
    return writer.con.execute(
        "select status, available_at_raise, reorder_point from stock_alerts where sku_id = ? "
        "order by raised_at, alert_id",
        [sku_id],
    ).fetchall()


def test_create_warehouse(writer):
    east = make_warehouse(writer, "east-1", region="NY", priority=1)
    assert east["code"] == "EAST-1" and east["region"] == "NY" and east["priority"] == 1
    assert scalar(writer, "select count(*) from warehouses") == 1
    assert_rejected(
        writer,
        lambda uow: svc.create_warehouse(uow, svc.CreateWarehouse(code="East-1", name="dup", region="NY")),
        "warehouse_code_taken",
        kind="conflict",
    )
    with pytest.raises(ValidationError):
        svc.CreateWarehouse(code="bad code", name="x", region="NY")
    with pytest.raises(ValidationError):
        svc.CreateWarehouse(code="W2", name="x", region="NY", priority=-1)


def test_adjust_stock_journals_every_change(writer):
    sku = make_sku(writer)["sku_id"]
    wh = make_warehouse(writer)["warehouse_id"]
    level = _adjust(writer, sku, wh, 12, "initial count")
    assert (level["on_hand"], level["reserved"], level["available"]) == (12, 0, 12)
    _adjust(writer, sku, wh, -2, "damaged")
    # Reserve 7 as the order service would, so an adjustment can't eat into it.
    run(
        writer,
        lambda uow: move_stock(
            uow,
            sku,
            wh,
            lambda lv: stock.reserve(lv, 7),
            reason=None,
            reference_type="order",
            reference_id="ord_x",
        ),
    )
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, sku, wh, svc.AdjustStock(delta=-4, reason="lost")),
        "adjustment_below_reserved",
        kind="conflict",
    )
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, sku, wh, svc.AdjustStock(delta=0, reason="x")),
        "invalid_quantity",
    )
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, sku, wh, svc.AdjustStock(delta=1, reason="   ")),
        "reason_required",
    )
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, "sku_nope", wh, svc.AdjustStock(delta=1, reason="x")),
        "sku_not_found",
    )
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, sku, "whs_nope", svc.AdjustStock(delta=1, reason="x")),
        "warehouse_not_found",
    )
    # A negative adjustment of a level that does not exist yet is refused without creating the level.
    other = make_warehouse(writer, "WEST", region="CA")["warehouse_id"]
    assert_rejected(
        writer,
        lambda uow: svc.adjust_stock(uow, sku, other, svc.AdjustStock(delta=-1, reason="x")),
        "adjustment_below_reserved",
    )
    row = writer.con.execute(
        "select on_hand, reserved from stock_levels where sku_id = ? and warehouse_id = ?", [sku, wh]
    ).fetchone()
    assert row == (10, 7)
    movements = writer.con.execute(
        "select kind, on_hand_delta, reserved_delta, reason, reference_type, actor_key_id "
        "from stock_movements order by commit_seq"
    ).fetchall()
    assert movements == [
        ("adjustment", 12, 0, "initial count", "adjustment", "key_test_admin"),
        ("adjustment", -2, 0, "damaged", "adjustment", "key_test_admin"),
        ("reservation", 0, 7, None, "order", "key_test_admin"),
    ]
    assert scalar(writer, "select count(*) from audit_log where action = 'stock.adjust'") == 2
    assert_journal_matches_levels(writer)


def test_low_stock_alert_lifecycle(writer, clock, tmp_path):
    sku = make_sku(writer)["sku_id"]
    wh = make_warehouse(writer)["warehouse_id"]
    _adjust(writer, sku, wh, 3)
    # Setting a reorder point above what is available raises the alert at once.
    level = _reorder(writer, sku, wh, 5, 20)
    assert (level["reorder_point"], level["reorder_quantity"], level["available"]) == (5, 20, 3)
    assert _alerts(writer, sku) == [("open", 3, 5)]
    # Still low after another change: still one alert, not one per change.
    _adjust(writer, sku, wh, -1)
    assert _alerts(writer, sku) == [("open", 3, 5)]

    alert_id = scalar(writer, "select alert_id from stock_alerts where sku_id = ?", [sku])
    acked = run(writer, lambda uow: svc.acknowledge_alert(uow, alert_id))
    assert (acked["status"], acked["acknowledged_by"], acked["acknowledged_at"]) == (
        "acknowledged",
        "key_test_admin",
        clock.now(),
    )
    assert_rejected(
        writer, lambda uow: svc.acknowledge_alert(uow, alert_id), "alert_not_open", kind="conflict"
    )
    assert_rejected(writer, lambda uow: svc.acknowledge_alert(uow, "alr_nope"), "alert_not_found")

    # Back at the reorder point: resolved. Lowering the point below available would resolve it as well.
    _adjust(writer, sku, wh, 3)
    assert _alerts(writer, sku) == [("resolved", 3, 5)]
    clock.advance(timedelta(minutes=1))
    _adjust(writer, sku, wh, -1)
    assert [a[0] for a in _alerts(writer, sku)] == ["resolved", "open"]
    _reorder(writer, sku, wh, 4)
    assert [a[0] for a in _alerts(writer, sku)] == ["resolved", "resolved"]
    assert_journal_matches_levels(writer)

    # A resolved alert is not in the reopened writer's memory; it is read from the store on demand.
    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        assert reopened.state.get("stock_levels", (sku, wh))["on_hand"] == 4
        assert_rejected(reopened, lambda uow: svc.acknowledge_alert(uow, alert_id), "alert_not_open")
        _adjust(reopened, sku, wh, -1)
        assert [a[0] for a in _alerts(reopened, sku)] == ["resolved", "resolved", "open"]
        assert_journal_matches_levels(reopened)
    finally:
        reopened.con.close()


def test_set_reorder_point_creates_the_level(writer):
    sku = make_sku(writer)["sku_id"]
    wh = make_warehouse(writer)["warehouse_id"]
    level = _reorder(writer, sku, wh, 0, 0)
    assert (level["on_hand"], level["reserved"], level["reorder_point"]) == (0, 0, 0)
    assert scalar(writer, "select count(*) from stock_levels") == 1
    assert scalar(writer, "select count(*) from stock_alerts") == 0  # a reorder point of 0 is never low
    assert_rejected(
        writer,
        lambda uow: svc.set_reorder_point(
            uow, "sku_nope", wh, svc.SetReorderPoint(reorder_point=1, reorder_quantity=1)
        ),
        "sku_not_found",
    )
    with pytest.raises(ValidationError):
        svc.SetReorderPoint(reorder_point=-1, reorder_quantity=1)


def test_inventory_reads(writer):
    sku_a = make_sku(writer, "A-1")["sku_id"]
    sku_b = make_sku(writer, "B-1")["sku_id"]
    east = make_warehouse(writer, "EAST", priority=2)["warehouse_id"]
    west = make_warehouse(writer, "WEST", region="CA", priority=1)["warehouse_id"]
    _adjust(writer, sku_a, east, 10)
    _adjust(writer, sku_a, west, 2)
    _adjust(writer, sku_b, east, 1)
    _reorder(writer, sku_a, west, 5)
    run(
        writer,
        lambda uow: move_stock(
            uow,
            sku_a,
            east,
            lambda lv: stock.reserve(lv, 4),
            reason=None,
            reference_type="order",
            reference_id="o",
        ),
    )
    cur = writer.con.cursor()

    assert [w["code"] for w in reads.list_warehouses(cur)] == ["WEST", "EAST"]  # by priority
    assert reads.get_warehouse(cur, east)["region"] == "NY" and reads.get_warehouse(cur, "whs_x") is None

    level = reads.get_stock_level(cur, sku_a, east)
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 4, 6)
    assert {
        (r["sku_id"], r["warehouse_id"]) for r in reads.list_stock_levels(cur, sku_id=sku_a)["items"]
    } == {
        (sku_a, east),
        (sku_a, west),
    }
    assert [r["sku_id"] for r in reads.list_stock_levels(cur, warehouse_id=east)["items"]] == sorted(
        [sku_a, sku_b]
    )
    low = reads.list_stock_levels(cur, low_only=True)["items"]
    assert [(r["sku_id"], r["warehouse_id"]) for r in low] == [(sku_a, west)]
    first = reads.list_stock_levels(cur, limit=2)
    rest = reads.list_stock_levels(cur, limit=2, after=first["next_after"])
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_after"] is None

    moves = reads.list_stock_movements(cur, sku_id=sku_a, warehouse_id=east)
    assert sorted((m["kind"], m["on_hand_delta"], m["reserved_delta"]) for m in moves["items"]) == [
        ("adjustment", 10, 0),
        ("reservation", 0, 4),
    ]
    page1 = reads.list_stock_movements(cur, limit=3)
    page2 = reads.list_stock_movements(cur, limit=3, after=page1["next_after"])
    assert len(page1["items"]) == 3 and len(page2["items"]) == 1
    assert page1["items"][-1]["movement_id"] < page2["items"][0]["movement_id"]

    alerts = reads.list_alerts(cur, status="open")["items"]
    assert [(a["sku_id"], a["warehouse_id"], a["available_at_raise"]) for a in alerts] == [(sku_a, west, 2)]
    assert reads.list_alerts(cur, status="resolved")["items"] == []
    assert reads.get_alert(cur, alerts[0]["alert_id"])["status"] == "open"
    with pytest.raises(Exception) as info:
        reads.list_alerts(cur, status="closed")
    assert getattr(info.value, "code", None) == "invalid_alert_status"
