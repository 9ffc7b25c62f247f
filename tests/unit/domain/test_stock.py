import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from transactional.domain.errors import Conflict, Invalid, OutOfStock
from transactional.domain.stock import (
    Movement,
    StockLevel,
    Warehouse,
    adjust,
    is_low,
    plan_fulfilment,
    receive,
    release,
    reserve,
    restock_return,
    ship,
)


def test_level_invariant():
    assert StockLevel(10, 3).available == 7
    for on_hand, reserved in [(2, 3), (5, -1), (-1, 0)]:
        with pytest.raises(ValueError):
            StockLevel(on_hand, reserved)


def test_movements():
    level = StockLevel(0, 0)
    level, m = receive(level, 10)
    assert (level, m) == (StockLevel(10, 0), Movement("receipt", 10, 0))
    level, m = reserve(level, 4)
    assert (level, m) == (StockLevel(10, 4), Movement("reservation", 0, 4))
    level, m = ship(level, 3)
    assert (level, m) == (StockLevel(7, 1), Movement("shipment", -3, -3))
    level, m = release(level, 1)
    assert (level, m) == (StockLevel(7, 0), Movement("release", 0, -1))
    level, m = adjust(level, -2)
    assert (level, m) == (StockLevel(5, 0), Movement("adjustment", -2, 0))
    level, m = restock_return(level, 1)
    assert (level, m) == (StockLevel(6, 0), Movement("return", 1, 0))


def test_movement_errors():
    with pytest.raises(OutOfStock) as err:
        reserve(StockLevel(5, 3), 3)
    assert err.value.code == "out_of_stock"
    assert err.value.extra == {"requested": 3, "available": 2}
    with pytest.raises(Conflict) as err:
        release(StockLevel(5, 1), 2)
    assert err.value.code == "release_exceeds_reserved"
    with pytest.raises(Conflict) as err:
        ship(StockLevel(5, 1), 2)
    assert err.value.code == "shipment_exceeds_reserved"
    with pytest.raises(Conflict) as err:
        adjust(StockLevel(5, 4), -2)
    assert err.value.code == "adjustment_below_reserved"
    for fn, qty in [(reserve, 0), (receive, -1), (release, True), (restock_return, 1.0)]:
        with pytest.raises(Invalid) as err:
            fn(StockLevel(5, 1), qty)
        assert err.value.code == "invalid_quantity"
    with pytest.raises(Invalid):
        adjust(StockLevel(5, 1), 0)


def test_is_low():
    assert is_low(StockLevel(10, 6), 5)  # available 4 < 5
    assert not is_low(StockLevel(10, 5), 5)  # exactly at the reorder point is not low
    assert not is_low(StockLevel(0, 0), 0)


class StockMachine(RuleBasedStateMachine):
    """Random movements: the level always equals the sum of its movements."""

    def __init__(self) -> None:
        super().__init__()
        self.level = StockLevel(0, 0)
        self.movements: list[Movement] = []

    def _do(self, fn, qty, allowed: bool, error: type[Exception]):
        if allowed:
            self.level, movement = fn(self.level, qty)
            self.movements.append(movement)
        else:
            before = self.level
            with pytest.raises(error):
                fn(self.level, qty)
            assert self.level == before

    @rule(qty=st.integers(1, 20))
    def do_receive(self, qty):
        self._do(receive, qty, True, Exception)

    @rule(qty=st.integers(1, 20))
    def do_return(self, qty):
        self._do(restock_return, qty, True, Exception)

    @rule(qty=st.integers(1, 20))
    def do_reserve(self, qty):
        self._do(reserve, qty, qty <= self.level.available, OutOfStock)

    @rule(qty=st.integers(1, 20))
    def do_release(self, qty):
        self._do(release, qty, qty <= self.level.reserved, Conflict)

    @rule(qty=st.integers(1, 20))
    def do_ship(self, qty):
        self._do(ship, qty, qty <= self.level.reserved, Conflict)

    @rule(delta=st.integers(-20, 20).filter(bool))
    def do_adjust(self, delta):
        self._do(adjust, delta, self.level.on_hand + delta >= self.level.reserved, Conflict)

    @invariant()
    def level_is_consistent(self):
        assert self.level.reserved >= 0
        assert self.level.available == self.level.on_hand - self.level.reserved >= 0

    @invariant()
    def movements_sum_to_level(self):
        assert sum(m.on_hand_delta for m in self.movements) == self.level.on_hand
        assert sum(m.reserved_delta for m in self.movements) == self.level.reserved


TestStockMachine = StockMachine.TestCase


WAREHOUSES = [
    Warehouse("wh-east", "US-E", 2),
    Warehouse("wh-west", "US-W", 1),
    Warehouse("wh-eu", "EU", 1),
]


def test_whole_order_from_one_warehouse_prefers_region():
    available = {("A", "wh-east"): 5, ("B", "wh-east"): 5, ("A", "wh-west"): 5, ("B", "wh-west"): 5}
    plan = plan_fulfilment({"B": 2, "A": 1}, available, WAREHOUSES, "US-E")
    assert plan == {"A": [("wh-east", 1)], "B": [("wh-east", 2)]}
    assert list(plan) == ["A", "B"]
    # Out of region for both: lower priority number wins.
    plan = plan_fulfilment({"A": 1, "B": 2}, available, WAREHOUSES, "APAC")
    assert plan == {"A": [("wh-west", 1)], "B": [("wh-west", 2)]}


def test_per_sku_then_split():
    available = {
        ("A", "wh-east"): 5,
        ("B", "wh-west"): 3,
        ("B", "wh-eu"): 4,
        ("B", "wh-east"): 1,
    }
    plan = plan_fulfilment({"A": 5, "B": 7}, available, WAREHOUSES, "US-E")
    # A fits in wh-east alone; B needs 7: same region first (1), then most available.
    assert plan == {"A": [("wh-east", 5)], "B": [("wh-east", 1), ("wh-eu", 4), ("wh-west", 2)]}


def test_out_of_stock_names_the_sku():
    with pytest.raises(OutOfStock) as err:
        plan_fulfilment({"A": 3}, {("A", "wh-east"): 2, ("A", "nowhere"): 9}, WAREHOUSES, "US-E")
    assert err.value.code == "out_of_stock"
    assert err.value.extra == {"sku_id": "A", "requested": 3, "available": 2}


@given(
    demand=st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, 30), max_size=4),
    stock=st.dictionaries(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["w1", "w2", "w3", "w4"])),
        st.integers(0, 20),
    ),
    regions=st.lists(st.sampled_from(["N", "S"]), min_size=4, max_size=4),
    priorities=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    ship_region=st.sampled_from(["N", "S", "X"]),
)
def test_plan_fulfilment_properties(demand, stock, regions, priorities, ship_region):
    warehouses = [
        Warehouse(f"w{i + 1}", region, prio)
        for i, (region, prio) in enumerate(zip(regions, priorities, strict=True))
    ]
    try:
        plan = plan_fulfilment(demand, stock, warehouses, ship_region)
    except OutOfStock as err:
        sku = err.extra["sku_id"]
        assert sum(q for (s, _), q in stock.items() if s == sku) < demand[sku]
        return
    assert list(plan) == sorted(demand)
    for sku, parts in plan.items():
        assert sum(q for _, q in parts) == demand[sku]
        assert len({w for w, _ in parts}) == len(parts)
        for wid, qty in parts:
            assert 0 < qty <= stock.get((sku, wid), 0)
    assert plan == plan_fulfilment(demand, stock, warehouses, ship_region)
