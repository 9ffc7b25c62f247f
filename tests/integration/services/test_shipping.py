"""Carriers, dispatch with capture per parcel, tracking and notifications on a real store file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.conftest import ADMIN
from tests.integration.services.order_fixtures import (
    NY_ADDRESS,
    OPERATOR,
    STOREFRONT,
    Catalogue,
    count,
    levels,
    pay,
    run,
    seed,
    ship,
)
from transactional.domain.access import SYSTEM
from transactional.domain.clock import ManualClock
from transactional.domain.errors import Conflict, DomainError, IllegalTransition, Invalid, NotFound
from transactional.services import orders as orders_svc
from transactional.services import shipping
from transactional.services.due import run_due
from transactional.storage.reads import payments as pay_reads
from transactional.storage.reads import shipping as reads
from transactional.storage.writer import Writer

# Two A (10.00, 500 g) and one B (25.00, 500 g) to New York: total 53.60 with 8 % tax and 5.00 shipping.
TOTAL = 5360
A_LINE_TOTAL, B_LINE_TOTAL, SHIPPING = 2160, 2700, 500


@pytest.fixture
def cat(writer: Writer) -> Catalogue:
    return run(writer, seed, ADMIN)


def place(writer: Writer, cat: Catalogue) -> dict[str, Any]:
    cmd = orders_svc.PlaceOrder.model_validate(
        {
            "guest_email": "guest@example.com",
            "shipping_address": NY_ADDRESS,
            "sales_channel": "web",
            "lines": [{"sku_id": cat.sku["A"], "quantity": 2}, {"sku_id": cat.sku["B"], "quantity": 1}],
        }
    )
    return run(writer, lambda uow: orders_svc.place_order(uow, cmd), STOREFRONT)


def lines_of(order: dict[str, Any]) -> tuple[str, str]:
    a, b = (ln["order_line_id"] for ln in order["lines"])
    return a, b


def track(writer: Writer, shipment_id: str, status: str) -> dict[str, Any]:
    cmd = shipping.TrackingUpdate(status=status)
    return run(writer, lambda uow: shipping.record_tracking(uow, shipment_id, cmd), OPERATOR)


def status(writer: Writer, order_id: str) -> str:
    row = writer.con.execute("select status from orders where order_id = ?", [order_id]).fetchone()
    assert row is not None
    return str(row[0])


def test_dispatch_picks_the_cheapest_service_and_records_the_promise(writer: Writer, cat: Catalogue) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid, method="alipay")  # captured at once: nothing to capture at dispatch
    a, b = lines_of(order)
    result = ship(writer, oid, cat.warehouse["east"], {a: 2, b: 1})
    shipment = result["shipment"]
    # 1.5 kg → 2 kg charged: ground 6.50 + 2 × 1.10 = 8.70 ties SwiftPost standard 5.90 + 2 × 1.40;
    # ground promises Friday (dispatch by Wednesday + 2 business days), standard the Monday after.
    assert (shipment["carrier_code"], shipment["service_code"]) == ("parcelnet", "ground")
    assert shipment["shipping_cost_minor"] == 870 and shipment["weight_grams"] == 1500
    assert shipment["promised_delivery_date"] == date(2026, 3, 6)
    assert shipment["promised_dispatch_by"] == order["placed_at"] + timedelta(hours=48)
    assert shipment["tracking_status"] == "label_created" and shipment["capture_status"] == "not_needed"
    assert shipment["tracking_number"].startswith("PA") and len(shipment["tracking_number"]) >= 8
    assert result["order"]["status"] == "shipped"
    note = writer.con.execute(
        "select kind, recipient, promised_delivery_date, body from shipping_notifications where shipment_id = ?",
        [shipment["shipment_id"]],
    ).fetchone()
    assert note is not None and note[:3] == ("shipped", "guest@example.com", date(2026, 3, 6))
    assert shipment["tracking_number"] in note[3] and "ParcelNet" in note[3]


def test_a_chosen_service_and_tracking_number_are_checked(writer: Writer, cat: Catalogue) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid, method="alipay")
    a, b = lines_of(order)
    east = cat.warehouse["east"]
    with pytest.raises(NotFound) as missing:
        ship(writer, oid, east, {a: 1}, carrier_code="parcelnet", service_code="rocket")
    assert missing.value.code == "carrier_service_not_found"
    with pytest.raises(Invalid) as half:
        ship(writer, oid, east, {a: 1}, carrier_code="parcelnet")
    assert half.value.code == "carrier_and_service_required"
    with pytest.raises(Invalid) as bad_number:
        ship(
            writer, oid, east, {a: 1}, carrier_code="parcelnet", service_code="express", tracking_number="x!"
        )
    assert bad_number.value.code == "invalid_tracking_number"
    first = ship(
        writer,
        oid,
        east,
        {a: 1},
        carrier_code="swiftpost",
        service_code="priority",
        tracking_number="sp 1234 5678",
    )["shipment"]
    assert (first["service_code"], first["tracking_number"]) == ("priority", "SP12345678")
    assert first["shipping_cost_minor"] == 2300 + 300  # 500 g → 1 kg
    with pytest.raises(Conflict) as reused:
        ship(
            writer,
            oid,
            east,
            {b: 1},
            carrier_code="parcelnet",
            service_code="ground",
            tracking_number="SP12345678",
        )
    assert reused.value.code == "tracking_number_in_use"
    assert count(writer, "shipments") == 1


def test_each_parcel_captures_its_share_of_the_card_hold(writer: Writer, cat: Catalogue) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    payment = pay(writer, oid)
    a, b = lines_of(order)
    east = cat.warehouse["east"]
    first = ship(writer, oid, east, {a: 1})
    # Shipping and half of line A's total go with the first parcel.
    assert first["shipment"]["capture_minor"] == SHIPPING + A_LINE_TOTAL // 2
    assert first["shipment"]["capture_status"] == "captured"
    assert first["capture"]["operation_status"] == "succeeded"
    second = ship(writer, oid, east, {b: 1})["shipment"]
    assert second["capture_minor"] == B_LINE_TOTAL
    last = ship(writer, oid, east, {a: 1})["shipment"]
    assert last["capture_minor"] == TOTAL - SHIPPING - A_LINE_TOTAL // 2 - B_LINE_TOTAL
    row = writer.con.execute(
        "select status, captured_minor, fee_minor from payments where payment_id = ?", [payment["payment_id"]]
    ).fetchone()
    assert row is not None and row[:2] == ("captured", TOTAL)
    ops = writer.con.execute(
        "select shipment_id from payment_operations where kind = 'capture' order by operation_id"
    ).fetchall()
    assert [o[0] for o in ops] == [
        first["shipment"]["shipment_id"],
        second["shipment_id"],
        last["shipment_id"],
    ]
    balances = pay_reads.account_balances(writer.con.cursor())
    assert balances["customer_receivable"] == 0 and balances["sales_revenue"] == -(TOTAL - SHIPPING - 360)


def test_a_capture_declined_after_dispatch_flags_the_order_and_stays_receivable(
    writer: Writer, cat: Catalogue
) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid, token="tok_sandbox_capture_decline")
    a, b = lines_of(order)
    result = ship(writer, oid, cat.warehouse["east"], {a: 2, b: 1})
    assert result["shipment"]["capture_status"] == "declined"
    assert result["capture"]["operation_status"] == "failed"
    row = writer.con.execute("select status, attention_code from orders where order_id = ?", [oid]).fetchone()
    assert row == ("shipped", "capture_declined")  # the goods left; operators chase the money
    balances = pay_reads.account_balances(writer.con.cursor())
    assert balances["customer_receivable"] == TOTAL and balances.get("sales_revenue", 0) == 0
    flagged = reads.list_shipments(writer.con.cursor(), limit=10, after=None, capture_status="declined")
    assert [s["order_id"] for s in flagged["items"]] == [oid]


def test_tracking_moves_parcels_and_the_order(writer: Writer, cat: Catalogue, clock: ManualClock) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid)
    a, b = lines_of(order)
    east = cat.warehouse["east"]
    one = ship(writer, oid, east, {a: 2})["shipment"]["shipment_id"]
    with pytest.raises(Invalid) as unknown:
        track(writer, one, "nowhere")
    assert unknown.value.code == "invalid_tracking_status"
    clock.advance(timedelta(hours=5))
    assert track(writer, one, "picked_up")["applied"] is True
    # Delivered while the order is still partly shipped: the order waits for the rest.
    assert track(writer, one, "delivered")["order_status"] == "partially_shipped"
    duplicate = track(writer, one, "delivered")
    assert duplicate["applied"] is False
    with pytest.raises(IllegalTransition) as backwards:
        track(writer, one, "in_transit")
    assert backwards.value.code == "illegal_tracking_transition" and backwards.value.kind == "conflict"
    two = ship(writer, oid, east, {b: 1})["shipment"]["shipment_id"]
    assert status(writer, oid) == "shipped"
    assert track(writer, two, "exception")["order_status"] == "shipped"
    clock.advance(timedelta(days=1))
    done = track(writer, two, "delivered")
    assert done["order_status"] == "delivered" and done["shipment"]["delivered_at"] == clock.now()
    events = writer.con.execute(
        "select status, applied from tracking_events where shipment_id = ? order by received_at, tracking_event_id",
        [one],
    ).fetchall()
    assert events == [("picked_up", True), ("delivered", True), ("delivered", False)]
    detail = reads.get_shipment(writer.con.cursor(), two)
    assert detail is not None and [e["status"] for e in detail["tracking_events"]] == [
        "exception",
        "delivered",
    ]

    # The return window closes 30 days after delivery; then the order completes and leaves memory.
    clock.advance(timedelta(days=29))
    assert run(writer, run_due, SYSTEM)["orders_completed"] == 0
    clock.advance(timedelta(days=1))
    assert run(writer, run_due, SYSTEM)["orders_completed"] == 1
    assert status(writer, oid) == "completed"
    assert writer.state.lookup("shipments", "order_id", oid) == []


def test_tracking_refuses_unknown_parcels_and_changes_nothing(writer: Writer, cat: Catalogue) -> None:
    order = place(writer, cat)
    before = count(writer, "tracking_events")
    with pytest.raises(NotFound) as missing:
        track(writer, "shp_missing", "delivered")
    assert missing.value.code == "shipment_not_found"
    event = shipping.CarrierTrackingEvent(tracking_number="PA00000000", status="delivered")
    with pytest.raises(NotFound):
        run(writer, lambda uow: shipping.record_carrier_tracking(uow, "parcelnet", event), SYSTEM)
    with pytest.raises(DomainError) as no_carrier:
        run(writer, lambda uow: shipping.record_carrier_tracking(uow, "nocarrier", event), SYSTEM)
    assert no_carrier.value.code == "carrier_not_found"
    assert (
        count(writer, "tracking_events") == before and status(writer, order["order_id"]) == "pending_payment"
    )


def test_a_carrier_event_finds_its_parcel_by_tracking_number(writer: Writer, cat: Catalogue) -> None:
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid)
    a, b = lines_of(order)
    shipment = ship(writer, oid, cat.warehouse["east"], {a: 2, b: 1})["shipment"]
    event = shipping.CarrierTrackingEvent(
        tracking_number=shipment["tracking_number"].lower(), status="delivered", location="Brooklyn NY"
    )
    result = run(writer, lambda uow: shipping.record_carrier_tracking(uow, "parcelnet", event), SYSTEM)
    assert result["order_status"] == "delivered"
    with pytest.raises(NotFound):  # the same number under another carrier is not this parcel
        run(writer, lambda uow: shipping.record_carrier_tracking(uow, "swiftpost", event), SYSTEM)


def test_carriers_are_validated_and_listed(writer: Writer, cat: Catalogue) -> None:
    base = {"code": "fastly", "name": "Fastly Freight"}
    service = {"code": "day", "name": "Next day", "handling_hours": 4, "base_minor": 900, "per_kg_minor": 100}
    with pytest.raises(Invalid) as dup:
        cmd = shipping.CreateCarrier.model_validate(
            {
                **base,
                "services": [{**service, "transit_days": {"*": 1}}, {**service, "transit_days": {"*": 2}}],
            }
        )
        run(writer, lambda uow: shipping.create_carrier(uow, cmd), ADMIN)
    assert dup.value.code == "duplicate_service"
    with pytest.raises(Invalid) as card:
        cmd = shipping.CreateCarrier.model_validate(
            {**base, "name": "4111 1111 1111 1111", "services": [{**service, "transit_days": {"*": 1}}]}
        )
        run(writer, lambda uow: shipping.create_carrier(uow, cmd), ADMIN)
    assert "4111" not in card.value.detail
    ok = shipping.CreateCarrier.model_validate({**base, "services": [{**service, "transit_days": {"*": 1}}]})
    made = run(writer, lambda uow: shipping.create_carrier(uow, ok), ADMIN)
    assert made["webhook_secret"].startswith("whsec_")
    with pytest.raises(Conflict):
        run(writer, lambda uow: shipping.create_carrier(uow, ok), ADMIN)
    listed = reads.list_carriers(writer.con.cursor())
    assert [c["carrier_code"] for c in listed] == ["fastly", "parcelnet", "swiftpost"]
    assert listed[0]["services"][0]["transit_days"] == {"*": 1}
    assert "webhook_secret" not in listed[0]


def test_stock_leaves_with_the_parcel(writer: Writer, cat: Catalogue) -> None:
    start = levels(writer)
    order = place(writer, cat)
    oid = order["order_id"]
    pay(writer, oid)
    a, b = lines_of(order)
    ship(writer, oid, cat.warehouse["east"], {a: 2, b: 1})
    after = levels(writer)
    for sku, qty in ((cat.sku["A"], 2), (cat.sku["B"], 1)):
        key = (sku, cat.warehouse["east"])
        assert after[key] == (start[key][0] - qty, start[key][1])
