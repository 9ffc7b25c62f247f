"""Stock rules (ORD-3, WMS-1, WMS-2, BEY-6): levels, movements, low stock, fulfilment.

Stock per SKU × warehouse is an append-only ledger of movements; every change
below returns the new level together with the one movement that explains it,
so Σ on_hand_delta = on hand and Σ reserved_delta = reserved always hold.
``available = on_hand − reserved`` and ``0 <= reserved <= on_hand``: nothing
can be reserved (sold) that is not on hand, which is what rules out overselling.

Low-stock rule: a SKU × warehouse is low when its available quantity is
strictly below its reorder point (a reorder point of 0 is never low).

Fulfilling-warehouse rule (``plan_fulfilment``):

1. If one warehouse can fill the whole order, ship everything from it,
   preferring a warehouse in the ship-to region, then the lower priority
   number, then the lower warehouse_id.
2. Otherwise, per SKU: if one warehouse can fill that SKU's demand, use it
   with the same preference.
3. Otherwise split that SKU greedily: same-region warehouses first, then the
   most available, then lower priority number, then lower warehouse_id.
4. If the listed warehouses together hold less than a SKU's demand, raise
   OutOfStock before planning anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from transactional.domain.errors import Conflict, Invalid, OutOfStock

MovementKind = Literal["receipt", "reservation", "release", "shipment", "adjustment", "return"]
MOVEMENT_KINDS: frozenset[str] = frozenset(
    {"receipt", "reservation", "release", "shipment", "adjustment", "return"}
)


@dataclass(frozen=True, slots=True)
class StockLevel:
    on_hand: int
    reserved: int

    def __post_init__(self) -> None:
        if not 0 <= self.reserved <= self.on_hand:
            raise ValueError(
                f"stock level needs 0 <= reserved <= on_hand, got "
                f"on_hand={self.on_hand} reserved={self.reserved}"
            )

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class Movement:
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int

    def __post_init__(self) -> None:
        if self.kind not in MOVEMENT_KINDS:
            raise ValueError(f"unknown movement kind {self.kind!r}")


def _apply(level: StockLevel, movement: Movement) -> tuple[StockLevel, Movement]:
    new = StockLevel(level.on_hand + movement.on_hand_delta, level.reserved + movement.reserved_delta)
    return new, movement


def _require_positive(qty: int) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise Invalid(f"quantity must be a positive int, got {qty!r}", code="invalid_quantity")


def reserve(level: StockLevel, qty: int) -> tuple[StockLevel, Movement]:
    """Hold ``qty`` units for an order; OutOfStock if fewer are available."""
    _require_positive(qty)
    if qty > level.available:
        raise OutOfStock(
            f"requested {qty}, only {level.available} available",
            code="out_of_stock",
            requested=qty,
            available=level.available,
        )
    return _apply(level, Movement("reservation", 0, qty))


def release(level: StockLevel, qty: int) -> tuple[StockLevel, Movement]:
    """Give back ``qty`` reserved units (cancel or expiry)."""
    _require_positive(qty)
    if qty > level.reserved:
        raise Conflict(
            f"cannot release {qty}, only {level.reserved} reserved",
            code="release_exceeds_reserved",
        )
    return _apply(level, Movement("release", 0, -qty))


def ship(level: StockLevel, qty: int) -> tuple[StockLevel, Movement]:
    """Ship ``qty`` reserved units: they leave both on hand and reserved."""
    _require_positive(qty)
    if qty > level.reserved:
        raise Conflict(
            f"cannot ship {qty}, only {level.reserved} reserved",
            code="shipment_exceeds_reserved",
        )
    return _apply(level, Movement("shipment", -qty, -qty))


def receive(level: StockLevel, qty: int) -> tuple[StockLevel, Movement]:
    """Book ``qty`` units received from a supplier."""
    _require_positive(qty)
    return _apply(level, Movement("receipt", qty, 0))


def adjust(level: StockLevel, delta: int) -> tuple[StockLevel, Movement]:
    """Correct on hand by ``delta`` (count, damage); never below what is reserved."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise Invalid(f"adjustment must be a non-zero int, got {delta!r}", code="invalid_quantity")
    if level.on_hand + delta < level.reserved:
        raise Conflict(
            f"adjusting on hand {level.on_hand} by {delta} would leave less than "
            f"the {level.reserved} reserved",
            code="adjustment_below_reserved",
        )
    return _apply(level, Movement("adjustment", delta, 0))


def restock_return(level: StockLevel, qty: int) -> tuple[StockLevel, Movement]:
    """Put ``qty`` returned, resaleable units back on hand."""
    _require_positive(qty)
    return _apply(level, Movement("return", qty, 0))


def is_low(level: StockLevel, reorder_point: int) -> bool:
    """Low-stock rule: available strictly below the reorder point."""
    return level.available < reorder_point


@dataclass(frozen=True, slots=True)
class Warehouse:
    warehouse_id: str
    region: str
    priority: int


def plan_fulfilment(
    demand: Mapping[str, int],
    available: Mapping[tuple[str, str], int],
    warehouses: Sequence[Warehouse],
    ship_region: str,
) -> dict[str, list[tuple[str, int]]]:
    """Choose the warehouses to ship ``demand`` from (rule in the module docstring).

    ``demand`` maps SKU → quantity; ``available`` maps (SKU, warehouse_id) →
    available units; only ``warehouses`` are considered. Returns SKU →
    [(warehouse_id, quantity)], SKUs sorted, allocations in choice order.
    """
    ids = [w.warehouse_id for w in warehouses]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate warehouse ids")
    skus = sorted(demand)
    for sku in skus:
        _require_positive(demand[sku])

    def avail(sku: str, wid: str) -> int:
        qty = available.get((sku, wid), 0)
        if qty < 0:
            raise ValueError(f"negative availability for {sku} in {wid}")
        return qty

    for sku in skus:
        total = sum(avail(sku, wid) for wid in ids)
        if total < demand[sku]:
            raise OutOfStock(
                f"{sku}: requested {demand[sku]}, only {total} available",
                code="out_of_stock",
                sku_id=sku,
                requested=demand[sku],
                available=total,
            )

    def preference(w: Warehouse) -> tuple[bool, int, str]:
        return (w.region != ship_region, w.priority, w.warehouse_id)

    whole = [w for w in warehouses if all(avail(s, w.warehouse_id) >= demand[s] for s in skus)]
    if whole:
        best = min(whole, key=preference).warehouse_id
        return {sku: [(best, demand[sku])] for sku in skus}

    plan: dict[str, list[tuple[str, int]]] = {}
    for sku in skus:
        need = demand[sku]
        single = [w for w in warehouses if avail(sku, w.warehouse_id) >= need]
        if single:
            plan[sku] = [(min(single, key=preference).warehouse_id, need)]
            continue

        def greedy_order(w: Warehouse, s: str = sku) -> tuple[bool, int, int, str]:
            return (w.region != ship_region, -avail(s, w.warehouse_id), w.priority, w.warehouse_id)

        greedy = sorted(
            (w for w in warehouses if avail(sku, w.warehouse_id) > 0),
            key=greedy_order,
        )
        parts: list[tuple[str, int]] = []
        for w in greedy:
            take = min(need, avail(sku, w.warehouse_id))
            parts.append((w.warehouse_id, take))
            need -= take
            if need == 0:
                break
        plan[sku] = parts
    return plan
