from __future__ import annotations

from datetime import date, timedelta

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
from transactional.services import catalogue as cat
from transactional.services import inventory as inv
from transactional.services import purchasing as svc
from transactional.storage.reads import inventory as reads


@pytest.fixture
def world(writer):
    """Two SKUs, a warehouse and a supplier."""
    return {
        "a": make_sku(writer, "A-1")["sku_id"],
        "b": make_sku(writer, "B-1")["sku_id"],
        "wh": make_warehouse(writer)["warehouse_id"],
        "sup": run(
            writer,
            lambda uow: svc.create_supplier(
                uow, svc.CreateSupplier(name="Acme", email="Orders@Acme.test", lead_time_days=7)
            ),
        )["supplier_id"],
    }


def _po(writer, world, lines=None, **fields):
    lines = lines or [(world["a"], 10, 400), (world["b"], 5, 1200)]
    cmd = svc.CreatePurchaseOrder(
        supplier_id=fields.get("supplier_id", world["sup"]),
        warehouse_id=fields.get("warehouse_id", world["wh"]),
        expected_on=date(2026, 3, 9),
        lines=[svc.PurchaseOrderLineIn(sku_id=s, quantity=q, unit_cost_minor=c) for s, q, c in lines],
    )
    return run(writer, lambda uow: svc.create_purchase_order(uow, cmd))


def _receive(po_id, lines, note=None):
    cmd = svc.ReceivePurchaseOrder(
        lines=[svc.ReceiptLineIn(purchase_order_line_id=lid, quantity=q) for lid, q in lines], note=note
    )
    return lambda uow: svc.receive_purchase_order(uow, po_id, cmd)


def _line_for(po, sku_id):
    """The PO line of a SKU (lines are listed by id, not in the order given)."""
    return next(ln["purchase_order_line_id"] for ln in po["lines"] if ln["sku_id"] == sku_id)


def _on_hand(writer, sku_id, warehouse_id):
    return scalar(
        writer,
        "select on_hand from stock_levels where sku_id = ? and warehouse_id = ?",
        [sku_id, warehouse_id],
    )


def test_create_supplier_and_purchase_order(writer, world):
    supplier = writer.con.execute(
        "select name, email, lead_time_days from suppliers where supplier_id = ?", [world["sup"]]
    ).fetchone()
    assert supplier == ("Acme", "orders@acme.test", 7)
    po = _po(writer, world)
    assert po["status"] == "open" and po["expected_on"] == date(2026, 3, 9)
    assert sorted((ln["sku_id"], ln["quantity_ordered"], ln["quantity_received"]) for ln in po["lines"]) == [
        (world["a"], 10, 0),
        (world["b"], 5, 0),
    ]
    assert scalar(writer, "select count(*) from purchase_order_lines") == 2
    assert scalar(writer, "select count(*) from audit_log where action = 'purchase_order.create'") == 1


def test_purchase_order_rules(writer, world):
    def attempt(lines, **fields):
        cmd = svc.CreatePurchaseOrder(
            supplier_id=fields.get("supplier_id", world["sup"]),
            warehouse_id=fields.get("warehouse_id", world["wh"]),
            lines=[svc.PurchaseOrderLineIn(sku_id=s, quantity=q, unit_cost_minor=1) for s, q in lines],
        )
        return lambda uow: svc.create_purchase_order(uow, cmd)

    ok = [(world["a"], 1)]
    assert_rejected(writer, attempt(ok, supplier_id="sup_nope"), "supplier_not_found", kind="not_found")
    assert_rejected(writer, attempt(ok, warehouse_id="whs_nope"), "warehouse_not_found")
    assert_rejected(writer, attempt([(world["a"], 1), ("sku_nope", 1)]), "sku_not_found")
    assert_rejected(writer, attempt([(world["a"], 1), (world["a"], 2)]), "duplicate_sku")
    product_b = scalar(writer, "select product_id from skus where sku_id = ?", [world["b"]])
    run(writer, lambda uow: cat.archive_product(uow, product_b))
    assert_rejected(writer, attempt([(world["b"], 1)]), "sku_archived", kind="conflict")
    with pytest.raises(ValidationError):
        svc.PurchaseOrderLineIn(sku_id=world["a"], quantity=0, unit_cost_minor=1)
    with pytest.raises(ValidationError):
        svc.PurchaseOrderLineIn(sku_id=world["a"], quantity=1, unit_cost_minor=-1)
    with pytest.raises(ValidationError):
        svc.CreatePurchaseOrder(supplier_id=world["sup"], warehouse_id=world["wh"], lines=[])
    with pytest.raises(ValidationError):
        svc.CreateSupplier(name="x", lead_time_days=-1)


def test_receipts_update_stock_journal_and_status(writer, world):
    po = _po(writer, world)
    line_a, line_b = _line_for(po, world["a"]), _line_for(po, world["b"])
    first = run(writer, _receive(po["purchase_order_id"], [(line_a, 4), (line_b, 5)], note="first truck"))
    assert first["purchase_order"]["status"] == "partially_received"
    assert [(ln["quantity"], ln["sku_id"]) for ln in first["receipt"]["lines"]] == [
        (4, world["a"]),
        (5, world["b"]),
    ]
    assert _on_hand(writer, world["a"], world["wh"]) == 4 and _on_hand(writer, world["b"], world["wh"]) == 5
    receipt_id = first["receipt"]["receipt_id"]
    movements = writer.con.execute(
        "select sku_id, kind, on_hand_delta, reference_type, reference_id, reason from stock_movements "
        "order by on_hand_delta"
    ).fetchall()
    assert movements == [
        (world["a"], "receipt", 4, "purchase_receipt", receipt_id, "first truck"),
        (world["b"], "receipt", 5, "purchase_receipt", receipt_id, "first truck"),
    ]

    # Over-receipt, unknown or repeated lines: refused, nothing written.
    pid = po["purchase_order_id"]
    assert_rejected(writer, _receive(pid, [(line_a, 7)]), "over_receipt", kind="invalid")
    assert_rejected(writer, _receive(pid, [(line_b, 1)]), "over_receipt")
    assert_rejected(writer, _receive(pid, [(line_a, 1), ("pol_nope", 1)]), "purchase_order_line_not_found")
    assert_rejected(writer, _receive(pid, [(line_a, 1), (line_a, 1)]), "duplicate_line")
    assert_rejected(writer, _receive("po_nope", [(line_a, 1)]), "purchase_order_not_found")
    other = _po(writer, world, lines=[(world["a"], 1, 1)])
    assert_rejected(
        writer,
        _receive(other["purchase_order_id"], [(line_a, 1)]),  # a line of another PO
        "purchase_order_line_not_found",
    )
    assert_rejected(
        writer,
        lambda uow: svc.cancel_purchase_order(uow, pid),
        "purchase_order_has_receipts",
        kind="conflict",
    )

    second = run(writer, _receive(pid, [(line_a, 6)]))
    assert second["purchase_order"]["status"] == "received"
    assert {ln["sku_id"]: ln["quantity_received"] for ln in second["purchase_order"]["lines"]} == {
        world["a"]: 10,
        world["b"]: 5,
    }
    assert _on_hand(writer, world["a"], world["wh"]) == 10
    assert_rejected(writer, _receive(pid, [(line_a, 1)]), "purchase_order_not_receivable", kind="conflict")
    assert scalar(writer, "select count(*) from purchase_receipts where purchase_order_id = ?", [pid]) == 2
    assert scalar(writer, "select sum(quantity) from purchase_receipt_lines") == 15
    assert (
        scalar(writer, "select status from purchase_orders where purchase_order_id = ?", [pid]) == "received"
    )
    assert_journal_matches_levels(writer)


def test_cancel_purchase_order(writer, world):
    po = _po(writer, world)
    pid = po["purchase_order_id"]
    cancelled = run(writer, lambda uow: svc.cancel_purchase_order(uow, pid))
    assert cancelled["status"] == "cancelled"
    assert_rejected(writer, lambda uow: svc.cancel_purchase_order(uow, pid), "purchase_order_not_open")
    line = po["lines"][0]["purchase_order_line_id"]
    assert_rejected(writer, _receive(pid, [(line, 1)]), "purchase_order_not_receivable")
    assert_rejected(writer, lambda uow: svc.cancel_purchase_order(uow, "po_nope"), "purchase_order_not_found")


def test_receipt_resolves_low_stock_alert(writer, world):
    sku, wh = world["a"], world["wh"]
    run(
        writer,
        lambda uow: inv.set_reorder_point(
            uow, sku, wh, inv.SetReorderPoint(reorder_point=5, reorder_quantity=10)
        ),
    )
    alerts = writer.con.execute("select status, available_at_raise from stock_alerts where sku_id = ?", [sku])
    assert alerts.fetchall() == [("open", 0)]
    po = _po(writer, world, lines=[(sku, 10, 400)])
    line = po["lines"][0]["purchase_order_line_id"]
    run(writer, _receive(po["purchase_order_id"], [(line, 3)]))
    assert scalar(writer, "select status from stock_alerts where sku_id = ?", [sku]) == "open"  # 3 < 5
    run(writer, _receive(po["purchase_order_id"], [(line, 2)]))
    row = writer.con.execute(
        "select status, resolved_at is not null from stock_alerts where sku_id = ?", [sku]
    )
    assert row.fetchall() == [("resolved", True)]
    assert_journal_matches_levels(writer)


def test_purchase_orders_survive_reopening(writer, world, clock, tmp_path):
    open_po = _po(writer, world)
    done_po = _po(writer, world, lines=[(world["b"], 2, 100)])
    line_a = _line_for(open_po, world["a"])
    run(writer, _receive(open_po["purchase_order_id"], [(line_a, 4)]))
    done_line = done_po["lines"][0]["purchase_order_line_id"]
    run(writer, _receive(done_po["purchase_order_id"], [(done_line, 2)]))

    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        state = reopened.state
        # Open and partially received POs are preloaded with their lines; received ones are not.
        assert state.get("purchase_orders", (open_po["purchase_order_id"],))["status"] == "partially_received"
        assert (
            len(state.lookup("purchase_order_lines", "purchase_order_id", open_po["purchase_order_id"])) == 2
        )
        assert done_po["purchase_order_id"] not in {k[0] for k in state.tables["purchase_orders"].rows}
        assert state.get("stock_levels", (world["a"], world["wh"]))["on_hand"] == 4
        # A received PO is read from the store on demand, with its lines.
        assert_rejected(
            reopened,
            _receive(done_po["purchase_order_id"], [(done_line, 1)]),
            "purchase_order_not_receivable",
        )
        assert_rejected(reopened, _receive(open_po["purchase_order_id"], [(line_a, 7)]), "over_receipt")
        body = run(reopened, _receive(open_po["purchase_order_id"], [(line_a, 6)]))
        assert body["purchase_order"]["status"] == "partially_received"  # line B still outstanding
        assert _on_hand(reopened, world["a"], world["wh"]) == 10
        assert_journal_matches_levels(reopened)
    finally:
        reopened.con.close()


def test_purchasing_reads(writer, world, clock):
    po = _po(writer, world)
    clock.advance(timedelta(milliseconds=5))  # ids order by time only across milliseconds
    second = _po(writer, world, lines=[(world["b"], 1, 10)])
    line_a = _line_for(po, world["a"])
    run(writer, _receive(po["purchase_order_id"], [(line_a, 2)], note="dock 3"))
    run(writer, lambda uow: svc.cancel_purchase_order(uow, second["purchase_order_id"]))
    cur = writer.con.cursor()

    assert [s["name"] for s in reads.list_suppliers(cur)["items"]] == ["Acme"]
    assert reads.get_supplier(cur, world["sup"])["lead_time_days"] == 7
    listed = reads.list_purchase_orders(cur, status="partially_received")
    assert [p["purchase_order_id"] for p in listed["items"]] == [po["purchase_order_id"]]
    assert {ln["sku_id"]: ln["quantity_received"] for ln in listed["items"][0]["lines"]} == {
        world["a"]: 2,
        world["b"]: 0,
    }
    assert [p["status"] for p in reads.list_purchase_orders(cur, supplier_id=world["sup"])["items"]] == [
        "partially_received",
        "cancelled",
    ]
    full = reads.get_purchase_order(cur, po["purchase_order_id"])
    assert len(full["lines"]) == 2
    assert [(r["note"], [ln["quantity"] for ln in r["lines"]]) for r in full["receipts"]] == [("dock 3", [2])]
    assert reads.get_purchase_order(cur, "po_nope") is None
    page = reads.list_purchase_orders(cur, limit=1)
    assert len(page["items"]) == 1 and page["next_after"] == po["purchase_order_id"]
