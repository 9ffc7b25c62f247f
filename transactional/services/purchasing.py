"""Suppliers, purchase orders and goods receipts (WMS-2 replenishment).

A purchase order is ``open`` until goods arrive, ``partially_received`` while
some lines are short, ``received`` when every line is complete, or
``cancelled`` (only while nothing has been received). A receipt books the
units into the PO's warehouse through the stock journal, which also resolves
a low-stock alert the receipt cures.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from transactional.domain import stock
from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Invalid
from transactional.services.customers import normalize_email
from transactional.services.stock_journal import ensure_level, move_stock
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

PO_OPEN = "open"
PO_PARTIALLY_RECEIVED = "partially_received"
PO_RECEIVED = "received"
PO_CANCELLED = "cancelled"
PO_STATUSES = frozenset({PO_OPEN, PO_PARTIALLY_RECEIVED, PO_RECEIVED, PO_CANCELLED})
_RECEIVABLE = frozenset({PO_OPEN, PO_PARTIALLY_RECEIVED})
_MAX_LINES = 500

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Quantity = Annotated[int, Field(ge=1, le=10**9)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSupplier(_Command):
    name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)] | None = (
        None
    )
    lead_time_days: Annotated[int, Field(ge=0, le=365)]


class PurchaseOrderLineIn(_Command):
    sku_id: Id
    quantity: Quantity
    unit_cost_minor: Annotated[int, Field(ge=0, le=10**15)]


class CreatePurchaseOrder(_Command):
    supplier_id: Id
    warehouse_id: Id
    expected_on: date | None = None
    lines: Annotated[list[PurchaseOrderLineIn], Field(min_length=1, max_length=_MAX_LINES)]


class ReceiptLineIn(_Command):
    purchase_order_line_id: Id
    quantity: Quantity


class ReceivePurchaseOrder(_Command):
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=_MAX_LINES)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


def supplier_view(row: Row) -> dict[str, Any]:
    return dict(row)


def _lines_of(uow: UnitOfWork, purchase_order_id: str) -> list[Row]:
    # Callers require the PO first: a PO read from the database brings all its lines.
    return sorted(
        uow.lookup("purchase_order_lines", "purchase_order_id", purchase_order_id),
        key=lambda r: r["purchase_order_line_id"],
    )


def purchase_order_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    return {**row, "lines": [dict(line) for line in _lines_of(uow, row["purchase_order_id"])]}


def _require_po(uow: UnitOfWork, purchase_order_id: str) -> Row:
    return uow.require(
        "purchase_orders", purchase_order_id, code="purchase_order_not_found", what="purchase order"
    )


def create_supplier(uow: UnitOfWork, cmd: CreateSupplier) -> dict[str, Any]:
    reject_card_data({"name": cmd.name}, field_kind="free_text")
    email = normalize_email(cmd.email) if cmd.email is not None else None
    supplier_id = uow.new_id("sup")
    row = uow.insert(
        "suppliers",
        {
            "supplier_id": supplier_id,
            "name": cmd.name,
            "email": email,
            "lead_time_days": cmd.lead_time_days,
            "created_at": uow.now,
        },
    )
    uow.audit("supplier.create", "supplier", supplier_id, name=cmd.name)
    return supplier_view(row)


def create_purchase_order(uow: UnitOfWork, cmd: CreatePurchaseOrder) -> dict[str, Any]:
    uow.require("suppliers", cmd.supplier_id, code="supplier_not_found", what="supplier")
    uow.require("warehouses", cmd.warehouse_id, code="warehouse_not_found", what="warehouse")
    seen: set[str] = set()
    for line in cmd.lines:
        if line.sku_id in seen:
            raise Invalid(f"SKU {line.sku_id} appears on two lines", code="duplicate_sku", sku_id=line.sku_id)
        seen.add(line.sku_id)
        sku = uow.require("skus", line.sku_id, code="sku_not_found", what="SKU")
        if sku["status"] != "active":
            raise Conflict(f"SKU {line.sku_id} is archived", code="sku_archived", sku_id=line.sku_id)
    purchase_order_id = uow.new_id("po")
    row = uow.insert(
        "purchase_orders",
        {
            "purchase_order_id": purchase_order_id,
            "supplier_id": cmd.supplier_id,
            "warehouse_id": cmd.warehouse_id,
            "status": PO_OPEN,
            "expected_on": cmd.expected_on,
            "created_at": uow.now,
            "updated_at": uow.now,
        },
    )
    for line in cmd.lines:
        uow.insert(
            "purchase_order_lines",
            {
                "purchase_order_line_id": uow.new_id("pol"),
                "purchase_order_id": purchase_order_id,
                "sku_id": line.sku_id,
                "quantity_ordered": line.quantity,
                "quantity_received": 0,
                "unit_cost_minor": line.unit_cost_minor,
            },
        )
    uow.audit(
        "purchase_order.create",
        "purchase_order",
        purchase_order_id,
        supplier_id=cmd.supplier_id,
        warehouse_id=cmd.warehouse_id,
        lines=len(cmd.lines),
    )
    return purchase_order_view(uow, row)


def cancel_purchase_order(uow: UnitOfWork, purchase_order_id: str) -> dict[str, Any]:
    """Cancel an open PO; Conflict ``purchase_order_has_receipts`` once anything was received."""
    row = _require_po(uow, purchase_order_id)
    if row["status"] == PO_PARTIALLY_RECEIVED or any(
        line["quantity_received"] > 0 for line in _lines_of(uow, purchase_order_id)
    ):
        raise Conflict(
            f"purchase order {purchase_order_id} has receipts and cannot be cancelled",
            code="purchase_order_has_receipts",
        )
    if row["status"] != PO_OPEN:
        raise Conflict(
            f"purchase order {purchase_order_id} is {row['status']}", code="purchase_order_not_open"
        )
    updated = uow.update("purchase_orders", purchase_order_id, status=PO_CANCELLED, updated_at=uow.now)
    uow.audit("purchase_order.cancel", "purchase_order", purchase_order_id)
    return purchase_order_view(uow, updated)


def receive_purchase_order(
    uow: UnitOfWork, purchase_order_id: str, cmd: ReceivePurchaseOrder
) -> dict[str, Any]:
    """Book received goods: receipt rows, quantities received, stock receipts, PO status.

    Errors: NotFound ``purchase_order_not_found``; Conflict
    ``purchase_order_not_receivable`` (cancelled or fully received); Invalid
    ``purchase_order_line_not_found``, ``duplicate_line``, ``over_receipt``,
    ``card_data_rejected`` (a card number in the note).
    """
    reject_card_data({"note": cmd.note}, field_kind="free_text")
    po = _require_po(uow, purchase_order_id)
    if po["status"] not in _RECEIVABLE:
        raise Conflict(
            f"purchase order {purchase_order_id} is {po['status']}",
            code="purchase_order_not_receivable",
            status=po["status"],
        )
    lines = {line["purchase_order_line_id"]: line for line in _lines_of(uow, purchase_order_id)}
    seen: set[str] = set()
    for item in cmd.lines:
        line = lines.get(item.purchase_order_line_id)
        if line is None:
            raise Invalid(
                f"purchase order {purchase_order_id} has no line {item.purchase_order_line_id}",
                code="purchase_order_line_not_found",
                purchase_order_line_id=item.purchase_order_line_id,
            )
        if item.purchase_order_line_id in seen:
            raise Invalid(
                f"line {item.purchase_order_line_id} is listed twice",
                code="duplicate_line",
                purchase_order_line_id=item.purchase_order_line_id,
            )
        seen.add(item.purchase_order_line_id)
        outstanding = line["quantity_ordered"] - line["quantity_received"]
        if item.quantity > outstanding:
            raise Invalid(
                f"line {item.purchase_order_line_id}: receiving {item.quantity}, "
                f"only {outstanding} outstanding",
                code="over_receipt",
                purchase_order_line_id=item.purchase_order_line_id,
                outstanding=outstanding,
            )

    warehouse_id = po["warehouse_id"]
    receipt_id = uow.new_id("rcp")
    receipt = uow.insert(
        "purchase_receipts",
        {
            "receipt_id": receipt_id,
            "purchase_order_id": purchase_order_id,
            "received_at": uow.now,
            "actor_key_id": uow.actor.key_id,
            "note": cmd.note or None,
        },
    )
    receipt_lines = []
    for item in cmd.lines:
        line = lines[item.purchase_order_line_id]
        receipt_lines.append(
            uow.insert(
                "purchase_receipt_lines",
                {
                    "receipt_line_id": uow.new_id("rcl"),
                    "receipt_id": receipt_id,
                    "purchase_order_line_id": item.purchase_order_line_id,
                    "sku_id": line["sku_id"],
                    "quantity": item.quantity,
                },
            )
        )
        lines[item.purchase_order_line_id] = uow.update(
            "purchase_order_lines",
            item.purchase_order_line_id,
            quantity_received=line["quantity_received"] + item.quantity,
        )
        ensure_level(uow, line["sku_id"], warehouse_id)
        move_stock(
            uow,
            line["sku_id"],
            warehouse_id,
            functools.partial(stock.receive, qty=item.quantity),
            reason=cmd.note or None,
            reference_type="purchase_receipt",
            reference_id=receipt_id,
        )
    complete = all(line["quantity_received"] >= line["quantity_ordered"] for line in lines.values())
    status = PO_RECEIVED if complete else PO_PARTIALLY_RECEIVED
    updated = uow.update("purchase_orders", purchase_order_id, status=status, updated_at=uow.now)
    uow.audit(
        "purchase_order.receive",
        "purchase_order",
        purchase_order_id,
        receipt_id=receipt_id,
        units=sum(item.quantity for item in cmd.lines),
        status=status,
    )
    return {
        "receipt": {**receipt, "lines": [dict(r) for r in receipt_lines]},
        "purchase_order": purchase_order_view(uow, updated),
    }
