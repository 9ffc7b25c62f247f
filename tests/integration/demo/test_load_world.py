"""Loading the demo world into a real store through the services."""

from __future__ import annotations

import time
from functools import partial
from itertools import islice

import pytest

from tests.integration.conftest import ADMIN
from tests.integration.services import assert_journal_matches_levels
from transactional.demo.world import address_command, generate_world, load_world, register_command
from transactional.domain.errors import Conflict
from transactional.services import customers as customer_service


@pytest.fixture(scope="module")
def world():
    return generate_world(42)


def _count(writer, table):
    return writer.con.execute(f"select count(*) from {table}").fetchone()[0]


def test_load_world_creates_the_catalogue_and_opening_stock(writer, world):
    started = time.perf_counter()
    loaded = load_world(writer, world, actor=ADMIN)
    print(
        f"\nload_world: {loaded.commands} commands, {len(world.skus)} SKUs in {time.perf_counter() - started:.2f} s"
    )

    assert _count(writer, "categories") == len(loaded.category_ids) == 12
    assert _count(writer, "products") == len(loaded.product_ids) == len(world.products)
    assert _count(writer, "skus") == len(loaded.sku_ids) == len(world.skus)
    assert _count(writer, "warehouses") == 3 and _count(writer, "suppliers") == 3
    assert _count(writer, "carriers") == len(world.carriers)
    assert _count(writer, "coupons") == len(world.coupons)
    assert _count(writer, "tax_rates") == len(world.tax_rates)
    assert _count(writer, "stock_levels") == len(world.stock)

    # Stock arrived by purchase receipts only, and the journal explains every unit.
    on_hand = writer.con.execute("select sum(on_hand), sum(reserved) from stock_levels").fetchone()
    assert on_hand == (sum(st.opening_units for st in world.stock), 0)
    kinds = writer.con.execute("select distinct reference_type from stock_movements").fetchall()
    assert kinds == [("purchase_receipt",)]
    assert_journal_matches_levels(writer)
    assert writer.con.execute(
        "select count(*) from purchase_orders where status <> 'received'"
    ).fetchone() == (0,)
    assert _count(writer, "stock_alerts") == 0  # opening stock is above every reorder point

    # Specs and rows agree: price, cost, weight, reorder settings; prices effective from the world's start.
    sku = world.skus[0]
    row = writer.con.execute(
        "select s.unit_cost_minor, s.weight_grams, p.price_minor, p.effective_from "
        "from skus s join sku_prices p using (sku_id) where s.sku_id = ?",
        [loaded.sku_ids[sku.sku_code]],
    ).fetchone()
    assert row[:3] == (sku.unit_cost_minor, sku.weight_grams, sku.price_minor)
    assert row[3] == world.start
    level = next(st for st in world.stock if st.sku_code == sku.sku_code and st.warehouse_code == "WEST")
    stored = writer.con.execute(
        "select on_hand, reorder_point, reorder_quantity from stock_levels where sku_id = ? and warehouse_id = ?",
        [loaded.sku_ids[sku.sku_code], loaded.warehouse_ids["WEST"]],
    ).fetchone()
    assert stored == (level.opening_units, level.reorder_point, level.reorder_quantity)


def test_load_world_through_the_writer_thread(writer, world):
    writer.start()
    try:
        loaded = load_world(writer, world, actor=ADMIN)
    finally:
        writer.stop()
    assert len(loaded.sku_ids) == len(world.skus)
    assert set(loaded.coupon_ids) == {c.code for c in world.coupons}
    assert_journal_matches_levels(writer)


def test_generated_customers_register_through_the_service(writer, world):
    people = list(islice(world.customers(), 120))
    assert {c.country for c in people} == {"US", "CN"}
    for person in people:
        body = writer.run(
            partial(customer_service.register_customer, cmd=register_command(person)),
            ADMIN,
            at=person.signup_at,
        ).body
        writer.run(
            partial(
                customer_service.add_address, customer_id=body["customer_id"], cmd=address_command(person)
            ),
            ADMIN,
            at=person.signup_at,
        )
    assert _count(writer, "customers") == _count(writer, "customer_addresses") == len(people)


def test_loading_twice_is_refused(writer, world):
    load_world(writer, world, actor=ADMIN)
    with pytest.raises(Conflict) as caught:
        load_world(writer, world, actor=ADMIN)
    assert caught.value.code == "warehouse_code_taken"
    assert _count(writer, "skus") == len(world.skus)
