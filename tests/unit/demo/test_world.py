"""The demo world's generation: deterministic, realistic in shape, and clean for the services' checks."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from statistics import mean

import pytest

from transactional.demo import names
from transactional.demo.world import (
    DEVICE_MIX,
    TRAFFIC_MIX,
    address_command,
    customers,
    generate_world,
    register_command,
)
from transactional.domain.card_data import contains_card_number
from transactional.domain.coupons import normalize_code
from transactional.domain.words import DEVICES, SALES_CHANNELS, TRAFFIC_SOURCES
from transactional.services.customers import check_phone, check_region, normalize_email

N_CUSTOMERS = 1_000


@pytest.fixture(scope="module")
def world():
    return generate_world(42)


@pytest.fixture(scope="module")
def people(world):
    return list(customers(random.Random(42), N_CUSTOMERS, world.start, world.end))


def test_same_seed_same_world_and_customers(world, people):
    assert generate_world(42) == world
    assert list(customers(random.Random(42), N_CUSTOMERS, world.start, world.end)) == people


def test_different_seed_different_world_and_customers(world, people):
    other = generate_world(43)
    assert [s.price_minor for s in other.skus] != [s.price_minor for s in world.skus]
    assert [p.name for p in other.products] != [p.name for p in world.products]
    others = list(customers(random.Random(43), 50, world.start, world.end))
    assert [c.name for c in others] != [c.name for c in people[:50]]


def test_scale_one_has_about_300_products_in_12_categories(world):
    assert len(world.categories) == 12
    assert len(world.products) == 300
    assert {p.category for p in world.products} == {c.name for c in world.categories}
    assert 700 <= len(world.skus) <= 900
    assert all(1 <= len(p.skus) <= 4 for p in world.products)
    days = (world.end - world.start).days
    assert world.customer_count == round(20_000 * days / 183)  # 20,000 per six months


def test_scale_ten_triples_products_and_multiplies_customers_by_ten():
    big = generate_world(42, scale=10)
    assert len(big.products) == 900
    assert big.customer_count == 10 * generate_world(42).customer_count
    assert big.daily_units == 10 * generate_world(42).daily_units
    assert len({p.name for p in big.products}) == 900


def test_sku_codes_are_unique_and_never_hold_long_digit_runs(world):
    codes = [s.sku_code for s in world.skus]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9-]{1,64}", code)
        assert not re.search(r"\d{4}", code)


def test_prices_are_shelf_prices_and_costs_below_them(world):
    for sku in world.skus:
        assert isinstance(sku.price_minor, int) and isinstance(sku.unit_cost_minor, int)
        assert sku.price_minor % 100 in (0, 99)
        assert 0 < sku.unit_cost_minor < sku.price_minor
        assert sku.weight_grams > 0


def test_margins_and_price_ranges_differ_by_category(world):
    margin = {
        c.name: mean(1 - s.unit_cost_minor / s.price_minor for s in world.skus if s.category == c.name)
        for c in world.categories
    }
    assert margin["Electronics"] < margin["Grocery"] < margin["Apparel"] < margin["Beauty"]
    assert max(margin.values()) - min(margin.values()) > 0.3
    for category in world.categories:
        assert margin[category.name] == pytest.approx(category.margin, abs=0.03)
    tax_classes = {c.name: c.tax_class for c in world.categories}
    assert tax_classes["Grocery"] == tax_classes["Books"] == "reduced"
    assert all(p.tax_class == tax_classes[p.category] for p in world.products)


def test_popularity_is_heavy_tailed_with_rising_and_fading_skus(world):
    weights = sorted((s.demand_weight for s in world.skus), reverse=True)
    assert sum(weights) == pytest.approx(1.0)
    top = weights[: len(weights) // 5]
    assert sum(top) > 0.5
    trends = [s.trend_per_month for s in world.skus]
    assert sum(t > 0.07 for t in trends) > 0.05 * len(trends)
    assert sum(t < -0.04 for t in trends) > 0.05 * len(trends)
    rising = max(world.skus, key=lambda s: s.trend_per_month)
    later = world.start + timedelta(days=90)
    assert world.demand_weight(rising.sku_code, later) > world.demand_weight(rising.sku_code, world.start)


def test_stock_covers_every_sku_in_every_warehouse(world):
    assert [(w.code, w.region, w.priority) for w in world.warehouses] == [
        ("EAST", "NY", 1),
        ("WEST", "CA", 2),
        ("CENTRAL", "TX", 3),
    ]
    assert sum(w.demand_share for w in world.warehouses) == pytest.approx(1.0)
    levels = {(st.sku_code, st.warehouse_code): st for st in world.stock}
    assert len(levels) == len(world.skus) * len(world.warehouses)
    for st in world.stock:
        assert st.opening_units > st.reorder_point >= 1 and st.reorder_quantity >= 1
    # Sized from demand: the best seller has more stock than the slowest mover.
    best = max(world.skus, key=lambda s: s.demand_weight).sku_code
    slowest = min(world.skus, key=lambda s: s.demand_weight).sku_code
    assert levels[(best, "EAST")].opening_units > levels[(slowest, "EAST")].opening_units


def test_every_category_has_one_supplier(world):
    for category in world.categories:
        assert [s.code for s in world.suppliers if category.name in s.categories] == [category.supplier]
        assert world.supplier_for(category.name).code == category.supplier


def test_rates_cover_every_region_customers_live_in(world, people):
    rates = {(r.region, r.tax_class) for r in world.tax_rates}
    for customer in people:
        assert (customer.region, "standard") in rates and (customer.region, "reduced") in rates
    assert ("*", "standard") in rates and ("*", "reduced") in rates
    assert {s.region for s in world.shipping_rates} >= {"*"} | {p.region for p in names.PROVINCES}


def test_coupons_are_valid_codes_inside_the_period(world):
    codes = [c.code for c in world.coupons]
    assert len(set(codes)) == len(codes)
    assert {"WELCOME10", "BFCM2025"} <= set(codes)
    for coupon in world.coupons:
        assert normalize_code(coupon.code) == coupon.code
        assert world.start <= coupon.valid_from < world.end
        assert coupon.valid_until is None or coupon.valid_until > coupon.valid_from
        coupon.command()  # the service's own model accepts it
    assert {c.kind for c in world.coupons} == {"percent", "fixed"}


def test_carriers_include_an_international_service(world):
    codes = [c.code for c in world.carriers]
    assert codes[:2] == ["parcelnet", "swiftpost"] and "globallink" in codes
    assert world.carrier_for("US") is None
    assert world.carrier_for("CN") == ("globallink", "intl")


def test_no_generated_text_holds_a_card_number(world, people):
    texts = [c.name for c in world.categories]
    for product in world.products:
        texts += [product.name, product.description, product.brand]
        texts += [s.name for s in product.skus] + [v for s in product.skus for _, v in s.attributes]
    for c in people:
        a = c.address
        texts += [c.name, a.name, a.line1, a.line2 or "", a.city, a.region, a.postal_code]
    assert not [t for t in texts if contains_card_number(t)]
    assert sum(c.redraws for c in people) == 0


def test_customer_fields_pass_the_services_checks(people):
    for c in people:
        assert check_phone(c.phone) == c.phone
        assert check_phone(c.address.phone) == c.address.phone
        assert check_region(c.region) == c.region
        assert normalize_email(c.email) == c.email
        assert re.fullmatch(r"[A-Z]{2}", c.country)
        register_command(c)
        address_command(c)
    emails = [c.email for c in people]
    assert len(set(emails)) == len(emails)
    assert 0.6 < sum(c.phone is not None for c in people) / len(people) < 0.9


def test_customers_mix_locales_and_preferences(people):
    locales = Counter(c.locale for c in people)
    assert 0.15 < locales["zh_CN"] / len(people) < 0.25
    assert {c.country for c in people} == {"US", "CN"}
    assert all(c.country == "US" for c in people if c.locale == "en_US")
    assert {c.traffic_source for c in people} == TRAFFIC_SOURCES
    assert {c.device for c in people} == DEVICES
    assert {c.sales_channel for c in people} <= SALES_CHANNELS
    assert all(0 <= c.loyalty <= 1 and 0 <= c.coupon_affinity <= 1 for c in people)
    assert set(TRAFFIC_MIX) == TRAFFIC_SOURCES
    assert all(set(mix) == DEVICES for mix in DEVICE_MIX.values())


def test_signups_are_ordered_inside_the_period_and_grow(world, people):
    times = [c.signup_at for c in people]
    assert times == sorted(times)
    assert world.start <= times[0] and times[-1] < world.end
    middle = world.start + (world.end - world.start) / 2
    first_half = sum(t < middle for t in times)
    assert first_half < 0.45 * len(times)
    assert [c.key for c in people[:2]] == ["C000001", "C000002"]
