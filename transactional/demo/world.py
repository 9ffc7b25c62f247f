"""The demo store's world: catalogue, warehouses, suppliers, carriers, rates, coupons and customers.

Generation is pure (no I/O) and deterministic per seed: ``generate_world``
builds everything but the customers, ``customers`` yields the customer
population in sign-up order. ``load_world`` then creates the world in a fresh
store through the services, as an operator would; the simulator registers
each customer itself at its sign-up instant (``register_command``,
``address_command``), since the instant matters.

Choices (the issue-5 report proposes them for DECISIONLOG.md):

- Scale. ``scale`` 1 is 300 products (~770 SKUs) in 12 categories and 2,500
  customers over the default seven months; products grow as scale**0.48
  (×3 at scale 10, the catalogue of a bigger store is not ten times wider),
  customers and expected daily units linearly (×10).
- Economics per category: price range (log-triangular, most products near the
  low end), margin (unit cost = price × (1 − margin) × noise of ±10 %),
  packed weight (heavier for dearer products), tax class, base popularity and
  a monthly drift of demand (Electronics and Beauty grow, Books, Toys and Garden fade).
- Popularity: each product draws a lognormal weight (σ = 1.2), split over its
  variants by the variant's own popularity (M sells more than XS), so the top
  20 % of SKUs carry about two thirds of demand and ABC classes mean something.
  Each product also has a trend: most drift a little, ~12 % are rising stars
  (+8 to +20 % a month), ~18 % fade (−5 to −15 % a month).
  ``World.demand_weight(sku, at)`` combines them; weights sum to 1 at the start.
- Stock: per SKU × warehouse, sized from expected demand (``daily_units`` ×
  demand weight × the warehouse's share of demand): opening stock covers the
  supplier lead time plus 45 days, the reorder point the lead time plus 7
  days, the reorder quantity 30 days. Orders ship from the warehouse in the
  ship-to region, else by priority (domain.stock.plan_fulfilment), so WEST
  (CA) and CENTRAL (TX) serve their own states and EAST everyone else.
- Customers: ~80 % en_US (US addresses in 28 states weighted by population),
  ~20 % zh_CN: half of them Chinese Americans (romanized names, US addresses
  where Chinese-American communities are largest), half living in mainland
  China (Chinese names and addresses, region = the province in pinyin since
  regions are ASCII, country CN; Faker's districts and streets are not tied
  to the province, the city and postcode prefix are). China is zero-rated for US sales tax, pays
  an international shipping fee and ships with the international carrier
  (``World.carrier_for``). Sign-ups grow over the period (density rising
  exponentially to 3× its starting level), at NY daytime and evening hours.
  E-mails are on RFC 2606 example domains and US phones use the fictional
  555-01xx exchange, so no demo record reaches a real person.
- Card data: every generated text that a service scans (names, address lines,
  cities, postal codes, regions) is checked with ``contains_card_number``; a
  customer that would trip it is drawn again and ``CustomerSpec.redraws``
  counts how often (none has needed it so far: no field holds a long digit
  run). SKU codes never hold more than three digits in a row.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import cached_property, partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from faker import Faker

from transactional.demo import names
from transactional.demo.seed import CARRIERS as SEED_CARRIERS
from transactional.domain.access import Actor
from transactional.domain.card_data import contains_card_number
from transactional.services import catalogue, coupons, inventory, purchasing, shipping
from transactional.services import customers as customer_service
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, Outcome, Writer

STORE_TIMEZONE = "America/New_York"
BASE_PRODUCTS = 300
BASE_CUSTOMERS = 20_000
DEFAULT_PERIOD_DAYS = 183
BASE_DAILY_UNITS = 300.0
# Products grow more slowly than customers with scale: ×3 at scale 10.
PRODUCT_SCALE_EXPONENT = math.log(3) / math.log(10)
DAYS_PER_MONTH = 30.44

ZH_SHARE = 0.2  # customers with zh_CN names
CHINA_SHARE_OF_ZH = 0.5  # of those, the ones living in mainland China
PHONE_SHARE = 0.75
SIGNUP_GROWTH = 3.0  # sign-up density at the end of the period ÷ at its start
MAX_REDRAWS = 50

OPENING_COVER_DAYS = 45
SAFETY_DAYS = 7
REORDER_COVER_DAYS = 30
MIN_OPENING_UNITS = 4
MIN_REORDER_POINT = 2
MIN_REORDER_QUANTITY = 6
_MAX_PO_LINES = 500  # purchasing accepts at most 500 lines per order

TRAFFIC_MIX: dict[str, float] = {
    "organic": 0.30,
    "paid_search": 0.22,
    "direct": 0.18,
    "social": 0.15,
    "email": 0.08,
    "referral": 0.07,
}
DEVICE_MIX: dict[str, dict[str, float]] = {
    "en_US": {"mobile": 0.52, "desktop": 0.40, "tablet": 0.08},
    "zh_CN": {"mobile": 0.70, "desktop": 0.25, "tablet": 0.05},
}
# Share of sign-ups per hour of the day, store time (quiet nights, evening peak).
HOURLY_SIGNUPS = (
    1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 6, 6, 6, 7, 8, 9, 9, 8, 5, 2,
)  # fmt: skip


STORE_TZ = ZoneInfo(STORE_TIMEZONE)
DEFAULT_START = datetime(2025, 6, 1, tzinfo=STORE_TZ)
DEFAULT_END = datetime(2026, 1, 1, tzinfo=STORE_TZ)


# -- specs --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CategorySpec:
    """A category and its economics; ``popularity`` is its share of demand (relative to the others),
    ``drift_per_month`` the log growth of that demand per month, ``assortment`` its share of products."""

    name: str
    code: str  # three letters, the prefix of its SKU codes
    tax_class: str
    price_range_minor: tuple[int, int]
    margin: float
    weight_range_grams: tuple[int, int]
    popularity: float
    drift_per_month: float
    assortment: float
    supplier: str  # SupplierSpec.code


@dataclass(frozen=True, slots=True)
class SkuSpec:
    """A sellable variant. ``demand_weight`` is its share of the store's unit demand at the start (all
    SKUs sum to 1); ``trend_per_month`` its own log growth per month (the category's drift comes on top)."""

    sku_code: str
    product_key: str
    category: str
    name: str
    attributes: tuple[tuple[str, str], ...]
    price_minor: int
    unit_cost_minor: int
    weight_grams: int
    demand_weight: float
    trend_per_month: float

    def command(self) -> catalogue.CreateSku:
        return catalogue.CreateSku(
            sku_code=self.sku_code,
            name=self.name,
            attributes=dict(self.attributes),
            unit_cost_minor=self.unit_cost_minor,
            price_minor=self.price_minor,
            weight_grams=self.weight_grams,
        )


@dataclass(frozen=True, slots=True)
class ProductSpec:
    key: str  # e.g. "APP-007"; the SKU codes start with it
    name: str
    category: str
    brand: str
    description: str
    tax_class: str
    skus: tuple[SkuSpec, ...]


@dataclass(frozen=True, slots=True)
class WarehouseSpec:
    """A warehouse; ``demand_share`` is the share of units it is expected to ship (it sizes its stock)."""

    code: str
    name: str
    region: str
    priority: int
    demand_share: float


@dataclass(frozen=True, slots=True)
class SupplierSpec:
    code: str
    name: str
    email: str
    lead_time_days: int
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StockSpec:
    """Opening stock and replenishment settings of one SKU in one warehouse."""

    sku_code: str
    warehouse_code: str
    expected_daily_units: float
    opening_units: int
    reorder_point: int
    reorder_quantity: int


@dataclass(frozen=True, slots=True)
class TaxRateSpec:
    region: str
    tax_class: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class ShippingRateSpec:
    """What the customer pays for shipping: (minimum order, fee) tiers, both in minor units."""

    region: str
    tiers: tuple[tuple[int, int], ...]


Audience = Literal["new_customers", "everyone", "email_subscribers", "loyal_customers"]


@dataclass(frozen=True, slots=True)
class CouponSpec:
    """A campaign code; ``audience`` tells the simulator who is offered it."""

    code: str
    kind: Literal["percent", "fixed"]
    percent_off: Decimal | None
    amount_off_minor: int | None
    valid_from: datetime
    valid_until: datetime | None
    usage_limit: int | None
    min_subtotal_minor: int
    audience: Audience
    note: str

    def command(self) -> coupons.CreateCoupon:
        return coupons.CreateCoupon(
            code=self.code,
            kind=self.kind,
            percent_off=self.percent_off,
            amount_off_minor=self.amount_off_minor,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            usage_limit=self.usage_limit,
            min_subtotal_minor=self.min_subtotal_minor,
        )


@dataclass(frozen=True, slots=True)
class AddressSpec:
    name: str
    line1: str
    line2: str | None
    city: str
    region: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    phone: str | None


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    """A customer to register at ``signup_at`` (UTC), with preferences the simulator draws sessions from.

    ``loyalty`` is how likely the customer comes back (0..1), ``coupon_affinity``
    how likely they use a code they are offered; ``redraws`` counts the draws
    thrown away because a text would have looked like a card number.
    """

    key: str  # "C000001", in sign-up order
    locale: Literal["en_US", "zh_CN"]
    name: str
    email: str
    phone: str | None
    region: str
    country: str
    address: AddressSpec
    signup_at: datetime
    traffic_source: str
    device: str
    sales_channel: str
    loyalty: float
    coupon_affinity: float
    redraws: int


@dataclass(frozen=True)
class World:
    """Everything the demo store starts with, plus how many customers will sign up over the period."""

    seed: int
    scale: int
    start: datetime
    end: datetime
    daily_units: float  # units the store is expected to ship per day at the start (sizes stock)
    customer_count: int
    categories: tuple[CategorySpec, ...]
    products: tuple[ProductSpec, ...]
    warehouses: tuple[WarehouseSpec, ...]
    suppliers: tuple[SupplierSpec, ...]
    stock: tuple[StockSpec, ...]
    tax_rates: tuple[TaxRateSpec, ...]
    shipping_rates: tuple[ShippingRateSpec, ...]
    carriers: tuple[shipping.CreateCarrier, ...]
    coupons: tuple[CouponSpec, ...]
    international_service: tuple[str, str]  # (carrier code, service code) for addresses outside the US

    @cached_property
    def skus(self) -> tuple[SkuSpec, ...]:
        return tuple(s for p in self.products for s in p.skus)

    @cached_property
    def sku_by_code(self) -> dict[str, SkuSpec]:
        return {s.sku_code: s for s in self.skus}

    @cached_property
    def category_by_name(self) -> dict[str, CategorySpec]:
        return {c.name: c for c in self.categories}

    def supplier_for(self, category: str) -> SupplierSpec:
        return next(s for s in self.suppliers if category in s.categories)

    def months_since_start(self, at: datetime) -> float:
        return (at - self.start).total_seconds() / 86400 / DAYS_PER_MONTH

    def demand_weight(self, sku_code: str, at: datetime) -> float:
        """The SKU's relative demand at ``at``: its starting weight grown by its category's drift and its
        own trend. Not renormalized, so the store's total demand drifts too; multiply by ``daily_units``
        (or the simulator's own volume) for expected units per day."""
        sku = self.sku_by_code[sku_code]
        drift = self.category_by_name[sku.category].drift_per_month + sku.trend_per_month
        return sku.demand_weight * math.exp(drift * self.months_since_start(at))

    def demand_weights(self, at: datetime) -> dict[str, float]:
        return {s.sku_code: self.demand_weight(s.sku_code, at) for s in self.skus}

    def carrier_for(self, country: str) -> tuple[str, str] | None:
        """The (carrier, service) to ship to ``country`` with; None: let the service pick the cheapest."""
        return None if country == "US" else self.international_service

    def customers(self, *, parallel: bool = False) -> Iterator[CustomerSpec]:
        """The world's ``customer_count`` customers, in sign-up order (same seed, same customers);
        ``parallel`` makes them in a worker process, ahead of the caller."""
        return customers(
            random.Random(f"emporium-world:{self.seed}:customers"),
            self.customer_count,
            self.start,
            self.end,
            parallel=parallel,
        )


# -- the fixed parts of the world ------------------------------------------------------------
CATEGORIES: tuple[CategorySpec, ...] = (
    # name, code, tax, price range (cents), margin, weight (g), popularity, drift/month, assortment, supplier
    CategorySpec("Apparel", "APP", "standard", (1_500, 12_000), 0.58, (180, 900), 1.40, 0.00, 0.13, "NW"),
    CategorySpec("Footwear", "FTW", "standard", (3_500, 18_000), 0.50, (600, 1_800), 0.85, -0.01, 0.07, "NW"),
    CategorySpec("Home", "HOM", "standard", (1_200, 20_000), 0.52, (300, 5_000), 1.00, 0.01, 0.10, "HB"),
    CategorySpec("Kitchen", "KIT", "standard", (900, 25_000), 0.45, (200, 4_500), 0.90, 0.02, 0.10, "HB"),
    CategorySpec("Grocery", "GRO", "reduced", (399, 3_500), 0.28, (150, 1_200), 1.60, 0.03, 0.10, "GF"),
    CategorySpec("Beauty", "BEA", "standard", (800, 6_500), 0.65, (60, 600), 1.10, 0.04, 0.08, "NW"),
    CategorySpec("Electronics", "ELE", "standard", (1_500, 45_000), 0.22, (100, 3_000), 0.80, 0.05, 0.08, "HB"),
    CategorySpec("Toys", "TOY", "standard", (800, 9_000), 0.48, (150, 2_500), 0.70, -0.03, 0.07, "NW"),
    CategorySpec("Sports", "SPO", "standard", (1_200, 30_000), 0.42, (150, 9_000), 0.60, 0.01, 0.08, "NW"),
    CategorySpec("Books", "BOO", "reduced", (799, 4_500), 0.35, (200, 1_200), 0.75, -0.04, 0.08, "GF"),
    CategorySpec("Garden", "GAR", "standard", (800, 15_000), 0.46, (250, 12_000), 0.50, -0.02, 0.05, "HB"),
    CategorySpec("Pets", "PET", "standard", (500, 8_000), 0.40, (150, 10_000), 0.70, 0.03, 0.06, "GF"),
)  # fmt: skip

SUPPLIERS: tuple[SupplierSpec, ...] = (
    SupplierSpec(
        "NW",
        "Northwind Wholesale",
        "orders@northwind.example",
        7,
        ("Apparel", "Footwear", "Beauty", "Toys", "Sports"),
    ),
    SupplierSpec(
        "HB",
        "Harbor Home & Electronics",
        "purchasing@harbor.example",
        14,
        ("Home", "Kitchen", "Electronics", "Garden"),
    ),
    SupplierSpec("GF", "Greenfield Distributors", "po@greenfield.example", 4, ("Grocery", "Books", "Pets")),
)

INTERNATIONAL_CARRIER = shipping.CreateCarrier(
    code="globallink",
    name="GlobalLink",
    services=[
        shipping.ServiceIn(
            code="intl",
            name="International Priority",
            handling_hours=48,
            base_minor=1_800,
            per_kg_minor=900,
            max_weight_grams=30_000,
            transit_days={"*": 8, "Shanghai": 6, "Beijing": 6, "Guangdong": 6},
        )
    ],
)

# What the customer pays: free shipping from 50.00 in the US, from 150.00 abroad.
DOMESTIC_SHIPPING = ((0, 599), (5_000, 0))
INTERNATIONAL_SHIPPING = ((0, 2_499), (15_000, 0))
# Regions outside our tables (none, in the demo) pay a generic rate.
FALLBACK_TAX = (Decimal("0.0700"), Decimal("0.0000"))


def _us_shares(zh_share: float) -> dict[str, float]:
    """Share of all customers living in each US state."""
    total_pop = sum(s.population_m for s in names.US_STATES)
    shares = {s.code: (1 - zh_share) * s.population_m / total_pop for s in names.US_STATES}
    total_ca = sum(names.CHINESE_AMERICAN_STATES.values())
    for code, weight in names.CHINESE_AMERICAN_STATES.items():
        shares[code] += zh_share * (1 - CHINA_SHARE_OF_ZH) * weight / total_ca
    return shares


def _warehouses() -> tuple[WarehouseSpec, ...]:
    shares = _us_shares(ZH_SHARE)
    west, central = shares["CA"], shares["TX"]
    return (
        WarehouseSpec("EAST", "East Coast DC", "NY", 1, 1 - west - central),
        WarehouseSpec("WEST", "West Coast DC", "CA", 2, west),
        WarehouseSpec("CENTRAL", "Central DC", "TX", 3, central),
    )


def _tax_rates() -> tuple[TaxRateSpec, ...]:
    rates = [
        TaxRateSpec("*", "standard", FALLBACK_TAX[0]),
        TaxRateSpec("*", "reduced", FALLBACK_TAX[1]),
    ]
    for state in names.US_STATES:
        rates.append(TaxRateSpec(state.code, "standard", Decimal(state.standard_rate)))
        rates.append(TaxRateSpec(state.code, "reduced", Decimal(state.reduced_rate)))
    for province in names.PROVINCES:  # exports are zero-rated
        rates.append(TaxRateSpec(province.region, "standard", Decimal("0")))
        rates.append(TaxRateSpec(province.region, "reduced", Decimal("0")))
    return tuple(rates)


def _shipping_rates() -> tuple[ShippingRateSpec, ...]:
    return (ShippingRateSpec("*", DOMESTIC_SHIPPING),) + tuple(
        ShippingRateSpec(p.region, INTERNATIONAL_SHIPPING) for p in names.PROVINCES
    )


# -- the catalogue --------------------------------------------------------------------------
def _round_price(minor: float, ends_99: bool) -> int:
    """A shelf price: whole dollars, or a cent under them (24.99)."""
    dollars = max(1, round(minor / 100))
    return dollars * 100 - 1 if ends_99 else dollars * 100


def _product_trend(rng: random.Random) -> float:
    kind = rng.random()
    if kind < 0.12:  # rising star
        return rng.uniform(0.08, 0.20)
    if kind < 0.30:  # fading
        return -rng.uniform(0.05, 0.15)
    return rng.gauss(0.0, 0.02)


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), each part at least 1."""
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    parts = [max(1, math.floor(x)) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    for i in order[: max(0, total - sum(parts))]:
        parts[i] += 1
    return parts


def _names_for(rng: random.Random, category: str, count: int) -> list[str]:
    adjectives, nouns = names.ADJECTIVES[category], names.NOUNS[category]
    combos = [f"{a} {n}" for a in adjectives for n in nouns]
    picked: list[str] = []
    series = 1
    while len(picked) < count:
        take = min(count - len(picked), len(combos))
        suffix = "" if series == 1 else f" Series {series}"
        picked.extend(name + suffix for name in rng.sample(combos, take))
        series += 1
    return picked


def _category_products(
    rng: random.Random, category: CategorySpec, count: int
) -> list[tuple[ProductSpec, list[float]]]:
    """The category's products with each SKU's unnormalized popularity (its product's lognormal draw
    split over its variants)."""
    dimension = names.VARIANTS[category.name]
    lo_price, hi_price = category.price_range_minor
    lo_weight, hi_weight = category.weight_range_grams
    made = []
    for number, name in enumerate(_names_for(rng, category.name, count), start=1):
        key = f"{category.code}-{number:03d}"
        position = rng.triangular(0.0, 1.0, 0.3)  # where in the (log) price range
        base_price = lo_price * (hi_price / lo_price) ** position
        ends_99 = rng.random() < 0.8
        cost_noise = rng.uniform(0.9, 1.1)
        base_weight = lo_weight + (hi_weight - lo_weight) * (0.6 * position + 0.4 * rng.random())
        popularity = rng.lognormvariate(0.0, 1.2)
        trend = _product_trend(rng)
        n_variants = min(rng.randint(dimension.min_count, dimension.max_count), len(dimension.options))
        first = rng.randint(0, len(dimension.options) - n_variants)
        options = dimension.options[first : first + n_variants]
        option_popularity = sum(o.popularity for o in options)
        skus, weights = [], []
        for option in options:
            price = _round_price(base_price * option.price_factor, ends_99)
            cost = round(price * (1 - category.margin) * cost_noise)
            skus.append(
                SkuSpec(
                    sku_code=f"{key}-{option.code}",
                    product_key=key,
                    category=category.name,
                    name=f"{name} {option.label}",
                    attributes=((dimension.attribute, option.label),),
                    price_minor=price,
                    unit_cost_minor=min(max(1, cost), price - 1),
                    weight_grams=max(10, round(base_weight * option.weight_factor / 10) * 10),
                    demand_weight=0.0,  # set once the whole catalogue is known
                    trend_per_month=round(trend + rng.gauss(0.0, 0.01), 4),
                )
            )
            weights.append(popularity * option.popularity / option_popularity)
        brand = rng.choice(names.BRANDS[category.name])
        pitch = rng.choice(names.PITCHES[category.name])
        product = ProductSpec(
            key=key,
            name=name,
            category=category.name,
            brand=brand,
            description=f"{name} by {brand}. {pitch}",
            tax_class=category.tax_class,
            skus=tuple(skus),
        )
        made.append((product, weights))
    return made


def _catalogue(rng: random.Random, n_products: int) -> tuple[ProductSpec, ...]:
    counts = _allocate(n_products, [c.assortment for c in CATEGORIES])
    total_popularity = sum(c.popularity for c in CATEGORIES)
    products: list[ProductSpec] = []
    for category, count in zip(CATEGORIES, counts, strict=True):
        made = _category_products(rng, category, count)
        category_total = sum(w for _, weights in made for w in weights)
        share = category.popularity / total_popularity
        for product, weights in made:
            skus = tuple(
                replace(sku, demand_weight=share * w / category_total)
                for sku, w in zip(product.skus, weights, strict=True)
            )
            products.append(replace(product, skus=skus))
    return tuple(products)


def _stock(
    products: Sequence[ProductSpec], warehouses: Sequence[WarehouseSpec], daily_units: float
) -> tuple[StockSpec, ...]:
    lead_times = {c: s.lead_time_days for s in SUPPLIERS for c in s.categories}
    rows = []
    for product in products:
        lead = lead_times[product.category]
        for sku in product.skus:
            for warehouse in warehouses:
                daily = daily_units * sku.demand_weight * warehouse.demand_share
                rows.append(
                    StockSpec(
                        sku_code=sku.sku_code,
                        warehouse_code=warehouse.code,
                        expected_daily_units=daily,
                        opening_units=max(MIN_OPENING_UNITS, math.ceil(daily * (lead + OPENING_COVER_DAYS))),
                        reorder_point=max(MIN_REORDER_POINT, math.ceil(daily * (lead + SAFETY_DAYS))),
                        reorder_quantity=max(MIN_REORDER_QUANTITY, math.ceil(daily * REORDER_COVER_DAYS)),
                    )
                )
    return tuple(rows)


# -- coupons --------------------------------------------------------------------------------
def _black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=STORE_TZ)


def _coupons(rng: random.Random, start: datetime, end: datetime, scale: int) -> tuple[CouponSpec, ...]:
    span = end - start
    made = [
        CouponSpec(
            "WELCOME10", "percent", Decimal("0.10"), None, start, None, None, 0, "new_customers",
            "10 % off a first order",
        ),
        CouponSpec(
            "SPEND75SAVE10", "fixed", None, 1_000, start + span / 2, None, None, 7_500, "everyone",
            "10.00 off orders from 75.00 (threshold offer), second half of the period",
        ),
    ]  # fmt: skip
    flash_day = (start + span * rng.uniform(0.25, 0.4)).astimezone(STORE_TZ).date()
    made.append(
        CouponSpec(
            "FLASH20", "percent", Decimal("0.20"), None, _local_midnight(flash_day),
            _local_midnight(flash_day + timedelta(days=2)), 100 * scale, 0, "email_subscribers",
            "48-hour flash sale for newsletter subscribers, limited uses",
        )
    )  # fmt: skip
    middle = (start + span / 2).astimezone(STORE_TZ).date()
    sale_start = _local_midnight(middle.replace(day=1) + timedelta(days=rng.randint(7, 14)))
    made.append(
        CouponSpec(
            f"{middle.strftime('%b').upper()}SAVE15", "percent", Decimal("0.15"), None, sale_start,
            sale_start + timedelta(days=7), None, 3_000, "everyone", "a week-long mid-season sale",
        )
    )  # fmt: skip
    for year in range(start.year, end.year + 1):
        friday = _local_midnight(_black_friday(year))
        if start <= friday < end:
            made.append(
                CouponSpec(
                    f"BFCM{year}", "percent", Decimal("0.25"), None, friday,
                    friday + timedelta(days=4), None, 0, "everyone", "Black Friday to Cyber Monday",
                )
            )  # fmt: skip
    vip_from = max(start, end - timedelta(days=30))
    made.append(
        CouponSpec(
            "VIP15", "percent", Decimal("0.15"), None, vip_from, end, 150 * scale, 10_000,
            "loyal_customers", "thank-you code for repeat customers, orders from 100.00, limited uses",
        )
    )  # fmt: skip
    return tuple(made)


# -- the world ------------------------------------------------------------------------------
def generate_world(
    seed: int = 42,
    *,
    scale: int = 1,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    daily_units: float | None = None,
) -> World:
    """The demo world for ``seed`` at ``scale`` over [start, end) (aware instants); pure and deterministic.

    ``daily_units`` is how many units the simulator expects to sell per day at the
    start (default 60 × scale); it only sizes opening stock and reorder settings.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be aware instants with start < end")
    units = BASE_DAILY_UNITS * scale if daily_units is None else daily_units
    rng = random.Random(f"emporium-world:{seed}:catalogue")
    products = _catalogue(rng, round(BASE_PRODUCTS * scale**PRODUCT_SCALE_EXPONENT))
    for product in products:
        texts = [product.name, product.description, product.brand] + [s.name for s in product.skus]
        if any(contains_card_number(t) for t in texts):  # our word lists hold no long digit runs
            raise AssertionError(f"product {product.key} has a text that looks like a card number")
    warehouses = _warehouses()
    return World(
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        daily_units=units,
        # About BASE_CUSTOMERS per six months at scale 1: a shorter period gets fewer.
        customer_count=max(1, round(BASE_CUSTOMERS * scale * (end - start).days / DEFAULT_PERIOD_DAYS)),
        categories=CATEGORIES,
        products=products,
        warehouses=warehouses,
        suppliers=SUPPLIERS,
        stock=_stock(products, warehouses, units),
        tax_rates=_tax_rates(),
        shipping_rates=_shipping_rates(),
        carriers=(*SEED_CARRIERS, INTERNATIONAL_CARRIER),
        coupons=_coupons(random.Random(f"emporium-world:{seed}:coupons"), start, end, scale),
        international_service=(INTERNATIONAL_CARRIER.code, INTERNATIONAL_CARRIER.services[0].code),
    )


# -- customers ------------------------------------------------------------------------------
_FAKERS: dict[str, Faker] = {}
_US_STATES = {s.code: s for s in names.US_STATES}


def _faker(locale: str) -> Faker:
    """One Faker per locale, re-seeded for every customer (``seed_instance``), so each customer depends
    only on its own seed."""
    if locale not in _FAKERS:
        _FAKERS[locale] = Faker(locale)
    return _FAKERS[locale]


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _signup_fraction(u: float, growth: float) -> float:
    """Inverse CDF of a density on [0, 1] rising exponentially to ``growth`` × its starting level."""
    if growth == 1:
        return u
    g = math.log(growth)
    return math.log1p(u * (growth - 1)) / g


def _signup_times(
    rng: random.Random, n: int, start: datetime, end: datetime, growth: float
) -> list[datetime]:
    tz = STORE_TZ
    span = end - start
    hours = list(range(24))
    times = []
    for _ in range(n):
        day = (start + span * _signup_fraction(rng.random(), growth)).astimezone(tz).date()
        hour = rng.choices(hours, weights=HOURLY_SIGNUPS)[0]
        local = datetime.combine(day, clock_time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz)
        when = min(max(local, start), end - timedelta(seconds=1))
        times.append(when.astimezone(UTC))
    times.sort()
    return times


def _ascii_slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if "a" <= ch <= "z")


def _clean(*texts: str | None) -> bool:
    return not any(t and contains_card_number(t) for t in texts)


def _chinese_resident(rng: random.Random, zh: Faker) -> tuple[str, str, str, AddressSpec]:
    """A customer in mainland China: Chinese name and address, the province in pinyin as region."""
    province = names.PROVINCES[
        rng.choices(range(len(names.PROVINCES)), weights=[p.weight for p in names.PROVINCES])[0]
    ]
    city, prefix = rng.choice(province.cities)
    name = zh.name()
    first, last = _ascii_slug(zh.first_romanized_name()), _ascii_slug(zh.last_romanized_name())
    phone = (
        f"+861{rng.choice('356789')}{rng.randint(0, 999_999_999):09d}" if rng.random() < PHONE_SHARE else None
    )
    address = AddressSpec(
        name=name,
        line1=f"{zh.district()}区{zh.street_name()}{rng.randint(1, 399)}号",
        line2=f"{rng.randint(1, 30)}栋{rng.randint(1, 32)}{rng.randint(1, 8):02d}室",
        city=city if province.name_zh == city else f"{province.name_zh}{city}",
        region=province.region,
        postal_code=f"{prefix}{rng.randint(0, 999):03d}",
        country="CN",
        phone=phone,
    )
    return name, first, last, address


def _us_resident(rng: random.Random, us: Faker, zh: Faker | None) -> tuple[str, str, str, AddressSpec]:
    """A customer in the US; with ``zh`` a Chinese American (romanized name, states weighted by the
    Chinese-American population)."""
    if zh is None:
        weights = {s.code: s.population_m for s in names.US_STATES}
        first_name, last_name = us.first_name(), us.last_name()
    else:
        weights = names.CHINESE_AMERICAN_STATES
        first_name, last_name = zh.first_romanized_name(), zh.last_romanized_name()
    state = _US_STATES[_pick(rng, weights)]
    name = f"{first_name} {last_name}"
    phone = (
        f"+1{rng.choice(state.area_codes)}55501{rng.randint(0, 99):02d}"
        if rng.random() < PHONE_SHARE
        else None
    )
    address = AddressSpec(
        name=name,
        line1=us.street_address(),
        line2=None,
        city=us.city(),
        region=state.code,
        postal_code=us.zipcode_in_state(state.code),
        country="US",
        phone=phone,
    )
    return name, _ascii_slug(first_name), _ascii_slug(last_name), address


def _customer(index: int, signup_at: datetime, seed: int, zh_share: float) -> CustomerSpec:
    rng = random.Random(seed)
    zh = rng.random() < zh_share
    in_china = zh and rng.random() < CHINA_SHARE_OF_ZH
    locale: Literal["en_US", "zh_CN"] = "zh_CN" if zh else "en_US"
    for redraws in range(MAX_REDRAWS):
        us_faker, zh_faker = _faker("en_US"), _faker("zh_CN")
        us_faker.seed_instance(seed + redraws)
        zh_faker.seed_instance(seed + redraws)
        if in_china:
            name, first, last, address = _chinese_resident(rng, zh_faker)
        else:
            name, first, last, address = _us_resident(rng, us_faker, zh_faker if zh else None)
        a = address
        if _clean(name, a.line1, a.line2, a.city, a.postal_code, a.region):
            break
    else:  # pragma: no cover - no field can hold a long digit run
        raise RuntimeError(f"customer {index}: {MAX_REDRAWS} draws all looked like card data")
    email = f"{first or 'customer'}.{last or 'shopper'}.{index}@{rng.choice(names.EMAIL_DOMAINS)}"
    source = _pick(rng, TRAFFIC_MIX)
    device = _pick(rng, DEVICE_MIX[locale])
    channel = "app" if device == "mobile" and rng.random() < 0.45 else "web"
    if rng.random() < 0.06:
        channel = "marketplace"
    loyalty = rng.betavariate(2, 5) + {"email": 0.1, "direct": 0.05, "paid_search": -0.05}.get(source, 0.0)
    affinity = rng.betavariate(2, 4) + {"email": 0.15, "social": 0.1, "direct": -0.05}.get(source, 0.0)
    return CustomerSpec(
        key=f"C{index:06d}",
        locale=locale,
        name=name,
        email=email,
        phone=address.phone,
        region=address.region,
        country=address.country,
        address=address,
        signup_at=signup_at,
        traffic_source=source,
        device=device,
        sales_channel=channel,
        loyalty=round(min(0.95, max(0.02, loyalty)), 4),
        coupon_affinity=round(min(0.95, max(0.0, affinity)), 4),
        redraws=redraws,
    )


def customers(
    rng: random.Random,
    n: int,
    start: datetime,
    end: datetime,
    *,
    zh_share: float = ZH_SHARE,
    growth: float = SIGNUP_GROWTH,
    parallel: bool = False,
) -> Iterator[CustomerSpec]:
    """``n`` customers signing up over [start, end), in sign-up order, more of them later in the period.

    Sign-up instants and per-customer seeds are drawn from ``rng`` up front;
    each customer is then built from its own seed (Faker re-seeded with it), so
    the output depends only on ``rng``'s state, not on Faker's history.
    """
    times = _signup_times(rng, n, start, end, growth)
    seeds = [rng.getrandbits(63) for _ in range(n)]
    indexes = range(1, n + 1)
    if parallel:
        # Faker is slow (~0.5 ms a customer): a worker process makes them ahead while the caller
        # simulates. Each customer depends only on its own seed, so the output is the same.
        # "spawn", not fork: the caller holds DuckDB's threads.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                made = pool.map(_customer, indexes, times, seeds, [zh_share] * n, chunksize=500)
            except RuntimeError:  # a script without a __main__ guard cannot spawn: make them here
                made = None
            if made is not None:
                yield from made
                return
    for index, when, seed in zip(indexes, times, seeds, strict=True):
        yield _customer(index, when, seed, zh_share)


def register_command(spec: CustomerSpec) -> customer_service.RegisterCustomer:
    return customer_service.RegisterCustomer(
        email=spec.email, name=spec.name, phone=spec.phone, region=spec.region
    )


def address_command(spec: CustomerSpec) -> customer_service.AddAddress:
    a = spec.address
    return customer_service.AddAddress(
        name=a.name,
        line1=a.line1,
        line2=a.line2,
        city=a.city,
        region=a.region,
        postal_code=a.postal_code,
        country=a.country,
        phone=a.phone,
        is_default=True,
    )


# -- loading through the services ------------------------------------------------------------
@dataclass(frozen=True)
class LoadedWorld:
    """The world as created in the store: its specs and the ids the services gave them."""

    world: World
    category_ids: Mapping[str, str]  # category name → id
    product_ids: Mapping[str, str]  # product key → id
    sku_ids: Mapping[str, str]  # sku_code → id
    warehouse_ids: Mapping[str, str]  # warehouse code → id
    supplier_ids: Mapping[str, str]  # supplier code → id
    coupon_ids: Mapping[str, str]  # coupon code → id
    carrier_codes: tuple[str, ...]
    carrier_webhook_secrets: Mapping[str, str]  # shown once by create_carrier
    purchase_order_ids: tuple[str, ...]  # the opening-stock orders
    commands: int
    seconds: float


Step = Callable[[UnitOfWork], Any]


def _execute(writer: Writer, steps: Sequence[Step], actor: Actor, at: datetime) -> list[Any]:
    """Run independent commands, batched: submitted to the writer thread when it runs (group commit),
    else ``run_many`` in this thread. Raises the first failure."""
    commands = [Command(fn=step, actor=actor, at=at) for step in steps]
    if writer.is_running:
        futures = [writer.submit(c) for c in commands]
        wait(futures)
        outcomes: list[Outcome | BaseException] = [f.exception() or f.result() for f in futures]
    else:
        outcomes = writer.run_many(commands)
    bodies = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        bodies.append(outcome.body)
    return bodies


def load_world(writer: Writer, world: World, *, actor: Actor, at: datetime | None = None) -> LoadedWorld:
    """Create ``world`` in the writer's store (already created: USD, America/New_York, tax exclusive).

    Every row goes through a service: rates, warehouses, suppliers, carriers,
    coupons, categories, products, SKUs; opening stock arrives by purchase
    orders received in full, so the stock journal explains every unit; reorder
    points are set last. Commands run at ``at`` (default ``world.start``), the
    instant prices take effect. Customers are not created here.
    """
    started = time.perf_counter()
    when = world.start if at is None else at
    n_commands = 0

    def run(steps: Sequence[Step]) -> list[Any]:
        nonlocal n_commands
        n_commands += len(steps)
        return _execute(writer, steps, actor, when)

    # 1. Everything that depends on nothing else.
    setup: list[Step] = [
        partial(
            catalogue.set_tax_rate,
            cmd=catalogue.SetTaxRate(region=r.region, tax_class=r.tax_class, rate=r.rate),
        )
        for r in world.tax_rates
    ]
    setup += [
        partial(
            catalogue.set_shipping_rates,
            cmd=catalogue.SetShippingRates(
                region=s.region,
                tiers=[catalogue.ShippingTier(min_order_minor=m, fee_minor=f) for m, f in s.tiers],
            ),
        )
        for s in world.shipping_rates
    ]
    n_rates = len(setup)
    setup += [
        partial(
            inventory.create_warehouse,
            cmd=inventory.CreateWarehouse(code=w.code, name=w.name, region=w.region, priority=w.priority),
        )
        for w in world.warehouses
    ]
    setup += [
        partial(
            purchasing.create_supplier,
            cmd=purchasing.CreateSupplier(name=s.name, email=s.email, lead_time_days=s.lead_time_days),
        )
        for s in world.suppliers
    ]
    setup += [
        partial(catalogue.create_category, cmd=catalogue.CreateCategory(name=c.name))
        for c in world.categories
    ]
    setup += [partial(shipping.create_carrier, cmd=c) for c in world.carriers]
    setup += [partial(coupons.create_coupon, cmd=c.command()) for c in world.coupons]
    bodies = iter(run(setup)[n_rates:])
    warehouse_ids = {w.code: next(bodies)["warehouse_id"] for w in world.warehouses}
    supplier_ids = {s.code: next(bodies)["supplier_id"] for s in world.suppliers}
    category_ids = {c.name: next(bodies)["category_id"] for c in world.categories}
    secrets = {c.code: next(bodies)["webhook_secret"] for c in world.carriers}
    coupon_ids = {c.code: next(bodies)["coupon_id"] for c in world.coupons}

    # 2. Products, then their SKUs.
    made = run(
        [
            partial(
                catalogue.create_product,
                cmd=catalogue.CreateProduct(
                    name=p.name,
                    description=p.description,
                    category_id=category_ids[p.category],
                    tax_class=p.tax_class,
                    attributes={"brand": p.brand},
                ),
            )
            for p in world.products
        ]
    )
    product_ids = {p.key: body["product_id"] for p, body in zip(world.products, made, strict=True)}
    skus = world.skus
    made = run(
        [partial(catalogue.create_sku, product_id=product_ids[s.product_key], cmd=s.command()) for s in skus]
    )
    sku_ids = {s.sku_code: body["sku_id"] for s, body in zip(skus, made, strict=True)}

    # 3. Opening stock: one purchase order per supplier × warehouse (≤ 500 lines each), received in full.
    levels = {(st.sku_code, st.warehouse_code): st for st in world.stock}
    orders: list[Step] = []
    for supplier in world.suppliers:
        supplied = [s for s in skus if s.category in supplier.categories]
        for warehouse in world.warehouses:
            for chunk_start in range(0, len(supplied), _MAX_PO_LINES):
                chunk = supplied[chunk_start : chunk_start + _MAX_PO_LINES]
                lines = [
                    purchasing.PurchaseOrderLineIn(
                        sku_id=sku_ids[s.sku_code],
                        quantity=levels[(s.sku_code, warehouse.code)].opening_units,
                        unit_cost_minor=s.unit_cost_minor,
                    )
                    for s in chunk
                ]
                orders.append(
                    partial(
                        purchasing.create_purchase_order,
                        cmd=purchasing.CreatePurchaseOrder(
                            supplier_id=supplier_ids[supplier.code],
                            warehouse_id=warehouse_ids[warehouse.code],
                            lines=lines,
                        ),
                    )
                )
    pos = run(orders)

    # 4. Receipts, then reorder points (after the stock is in, so no low-stock alert fires at opening).
    finishing: list[Step] = [
        partial(
            purchasing.receive_purchase_order,
            purchase_order_id=po["purchase_order_id"],
            cmd=purchasing.ReceivePurchaseOrder(
                lines=[
                    purchasing.ReceiptLineIn(
                        purchase_order_line_id=line["purchase_order_line_id"],
                        quantity=line["quantity_ordered"],
                    )
                    for line in po["lines"]
                ],
                note="opening stock",
            ),
        )
        for po in pos
    ]
    finishing += [
        partial(
            inventory.set_reorder_point,
            sku_id=sku_ids[st.sku_code],
            warehouse_id=warehouse_ids[st.warehouse_code],
            cmd=inventory.SetReorderPoint(
                reorder_point=st.reorder_point, reorder_quantity=st.reorder_quantity
            ),
        )
        for st in world.stock
    ]
    run(finishing)
    return LoadedWorld(
        world=world,
        category_ids=category_ids,
        product_ids=product_ids,
        sku_ids=sku_ids,
        warehouse_ids=warehouse_ids,
        supplier_ids=supplier_ids,
        coupon_ids=coupon_ids,
        carrier_codes=tuple(c.code for c in world.carriers),
        carrier_webhook_secrets=secrets,
        purchase_order_ids=tuple(po["purchase_order_id"] for po in pos),
        commands=n_commands,
        seconds=time.perf_counter() - started,
    )
