"""The demo's clickstream: session plans turned into GA4-shaped event frames (issue 5, ANA-2).

The simulator decides what each visitor does (a ``SessionPlan``: lists seen,
items viewed, added, removed, how far into checkout); this module only turns
those decisions into events, as the storefront would have sent them, and hands
back the two frames ``services.storefront_events.ingest_frames`` takes.

- Order within a session: the lists seen (view_item_list), then each item
  viewed (view_item), each followed by its add_to_cart when the plan adds it;
  adds of items not viewed; removals; then view_cart, begin_checkout,
  add_shipping_info, add_payment_info as far as the plan goes. Cart-stage events
  carry the cart (adds less removals) and its value.
- Time: the first event is at ``started_at``; each next one 1 s plus an
  exponential pause whose mean depends on the step (reading a product page
  takes longer than opening the cart), at most 10 minutes, so timestamps rise
  strictly within a session.
- Event ids are version-4 UUIDs drawn from the caller's ``random.Random``
  (the same as ``uuid.UUID(int=rng.getrandbits(128), version=4)``, built
  without the UUID object), so one seed reproduces the same events.
- Purchases are not here: the server emits them when an order is paid (BEY-7).

Columns are built as Python lists (per event only what varies; a session's own
fields once per session; items as row numbers into the distinct PlanItems seen)
and each frame is made once by polars: 100,000 sessions (367k events, 1.08M
items) in about 1.8 s of CPU on the 2-core reference machine, not a DataFrame
per row.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from transactional.domain.event_frames import EVENT_COLUMNS, ITEM_COLUMNS, TIMESTAMP

# Mean pause in seconds before each kind of step (the first event of a session has none).
MEAN_PAUSE: dict[str, float] = {
    "view_item_list": 20.0,
    "view_item": 30.0,
    "add_to_cart": 15.0,
    "remove_from_cart": 25.0,
    "view_cart": 10.0,
    "begin_checkout": 20.0,
    "add_shipping_info": 45.0,
    "add_payment_info": 35.0,
}
MAX_PAUSE_SECONDS = 600.0
_RATE = {step: 1.0 / mean for step, mean in MEAN_PAUSE.items()}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# uuid.UUID(int=n, version=4) clears and sets these bits (RFC 4122 variant and version).
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (4 << 76)


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A SKU as the storefront shows it; ``quantity`` counts only where it is added or removed."""

    sku_id: str
    name: str
    category: str | None
    variant: str | None
    price_minor: int
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class ListView:
    """A product list the visitor saw (a category page, search results, a home-page block)."""

    list_id: str
    list_name: str
    items: tuple[PlanItem, ...]


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """What one visitor did in one session, as decided by the simulator."""

    session_id: str
    anonymous_id: str
    customer_id: str | None
    started_at: datetime
    traffic_source: str
    device: str
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    lists: tuple[ListView, ...] = ()
    viewed: tuple[PlanItem, ...] = ()
    added: tuple[PlanItem, ...] = ()
    removed: tuple[PlanItem, ...] = ()
    view_cart: bool = False
    begin_checkout: bool = False
    add_shipping_info: bool = False
    add_payment_info: bool = False
    coupon: str | None = None
    shipping_tier: str | None = None
    payment_type: str | None = None


def event_uuid(rng: random.Random) -> str:
    """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, about three times faster."""
    h = "%032x" % (rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET)  # noqa: UP031 - fastest here
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _cart(plan: SessionPlan) -> list[PlanItem]:
    """Adds less removals, by SKU in order of first add; lines that reach zero are gone."""
    quantities: dict[str, int] = {}
    first: dict[str, PlanItem] = {}
    for item in plan.added:
        quantities[item.sku_id] = quantities.get(item.sku_id, 0) + item.quantity
        first.setdefault(item.sku_id, item)
    for item in plan.removed:
        if item.sku_id in quantities:
            quantities[item.sku_id] -= item.quantity
    return [
        PlanItem(i.sku_id, i.name, i.category, i.variant, i.price_minor, quantities[sku])
        for sku, i in first.items()
        if quantities[sku] > 0
    ]


_SESSION_COLUMNS = (
    "session_id",
    "anonymous_id",
    "customer_id",
    "traffic_source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "device",
)
_VIEWS = ("view_item_list", "view_item")
_EXTRA_COLUMNS = ("coupon", "shipping_tier", "payment_type")


class _Builder:
    """The frames' columns, filled session by session.

    Per event only what varies is appended; a session's own fields are repeated
    once per session, and an event's items are row numbers into a table of the
    distinct PlanItem objects seen, exploded and joined by polars at the end.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # A session's own fields once per session, and each event's session number.
        self.sessions: dict[str, list[Any]] = {name: [] for name in _SESSION_COLUMNS}
        self.session_of: list[int] = []
        self.event_id: list[str] = []
        self.event_name: list[str] = []
        self.stamp: list[int] = []  # microseconds since the epoch
        self.list_id: list[str | None] = []
        self.list_name: list[str | None] = []
        self.coupon: list[str | None] = []
        self.shipping_tier: list[str | None] = []
        self.payment_type: list[str | None] = []
        # Each event's item count, and each item row's catalogue row (events' items in order).
        self.n_items: list[int] = []
        self.refs: list[int] = []
        self.catalogue: list[PlanItem] = []
        self._row_of: dict[int, int] = {}  # id(PlanItem) -> its row in catalogue (kept alive there)

    def _new_ref(self, item: PlanItem) -> int:
        row = self._row_of[id(item)] = len(self.catalogue)
        self.catalogue.append(item)
        return row

    def session(self, plan: SessionPlan) -> None:
        if plan.started_at.tzinfo is None:
            raise ValueError(f"session {plan.session_id}: started_at must be timezone-aware")
        steps: list[tuple[str, Sequence[PlanItem], ListView | None]] = [
            ("view_item_list", lv.items, lv) for lv in plan.lists
        ]
        to_add = list(plan.added)
        for item in plan.viewed:
            steps.append(("view_item", (item,), None))
            for n, added in enumerate(to_add):
                if added.sku_id == item.sku_id:
                    steps.append(("add_to_cart", (to_add.pop(n),), None))
                    break
        steps.extend(("add_to_cart", (added,), None) for added in to_add)
        steps.extend(("remove_from_cart", (removed,), None) for removed in plan.removed)
        if plan.view_cart or plan.begin_checkout:
            cart = _cart(plan)
            for name, done in (
                ("view_cart", plan.view_cart),
                ("begin_checkout", plan.begin_checkout),
                ("add_shipping_info", plan.add_shipping_info),
                ("add_payment_info", plan.add_payment_info),
            ):
                if done:
                    steps.append((name, cart, None))
        if not steps:
            return

        # Column by column, with bound methods in locals: this loop runs millions of times.
        rng, row_of, new_ref = self.rng, self._row_of, self._new_ref
        expovariate, new_id = rng.expovariate, event_uuid
        ids_append, names_append, stamps_append = (
            self.event_id.append,
            self.event_name.append,
            self.stamp.append,
        )
        refs_extend, counts_append = self.refs.extend, self.n_items.append
        clock = (plan.started_at - _EPOCH) // _US
        for k, (name, items, _) in enumerate(steps):
            if k:
                clock += int((1.0 + min(expovariate(_RATE[name]), MAX_PAUSE_SECONDS)) * 1_000_000)
            ids_append(new_id(rng))
            names_append(name)
            stamps_append(clock)
            counts_append(len(items))
            refs_extend([row_of[id(i)] if id(i) in row_of else new_ref(i) for i in items])
        n = len(steps)
        if plan.lists:
            self.list_id.extend([lv.list_id if lv else None for _, _, lv in steps])
            self.list_name.extend([lv.list_name if lv else None for _, _, lv in steps])
        else:
            self.list_id.extend([None] * n)
            self.list_name.extend([None] * n)
        if plan.begin_checkout or plan.add_shipping_info or plan.add_payment_info:
            self.coupon.extend([plan.coupon if name in _CHECKOUT else None for name, _, _ in steps])
            self.shipping_tier.extend(
                [plan.shipping_tier if name == "add_shipping_info" else None for name, _, _ in steps]
            )
            self.payment_type.extend(
                [plan.payment_type if name == "add_payment_info" else None for name, _, _ in steps]
            )
        else:
            for absent in (self.coupon, self.shipping_tier, self.payment_type):
                absent.extend([None] * n)
        self.session_of.extend([len(self.sessions["session_id"])] * n)
        for column, values in self.sessions.items():
            values.append(getattr(plan, column))

    def frames(self, currency: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        catalogue = pl.DataFrame(
            {
                "item_id": [i.sku_id for i in self.catalogue],
                "item_name": [i.name for i in self.catalogue],
                "item_category": [i.category for i in self.catalogue],
                "item_variant": [i.variant for i in self.catalogue],
                "price_minor": [i.price_minor for i in self.catalogue],
                "planned_quantity": [i.quantity for i in self.catalogue],
            },
            schema_overrides={"item_name": pl.String, "item_category": pl.String, "item_variant": pl.String},
        ).with_row_index("ref")
        session_of = pl.Series(self.session_of, dtype=pl.UInt32)
        sessions = pl.DataFrame(self.sessions, schema=dict.fromkeys(_SESSION_COLUMNS, pl.String))
        events = pl.DataFrame(
            {
                "event_id": self.event_id,
                "event_name": self.event_name,
                **{name: sessions[name].gather(session_of) for name in _SESSION_COLUMNS},
                "timestamp": pl.Series(self.stamp, dtype=pl.Int64).cast(TIMESTAMP),
                "item_list_id": self.list_id,
                "item_list_name": self.list_name,
                "coupon": self.coupon,
                "shipping_tier": self.shipping_tier,
                "payment_type": self.payment_type,
            },
            schema_overrides=dict.fromkeys(("item_list_id", "item_list_name", *_EXTRA_COLUMNS), pl.String),
        )
        # Each item row's event (its row number repeated n times) and position (0 .. n-1).
        layout = (
            pl.DataFrame({"n": self.n_items}, schema={"n": pl.Int64})
            .with_row_index("owner")
            .filter(pl.col("n") > 0)
            .select(
                pl.col("owner").repeat_by("n").explode(),
                pl.int_ranges(0, "n").explode().alias("item_index"),
            )
        )
        owner = layout["owner"]
        lines = pl.DataFrame(
            {
                "owner": owner,
                "event_id": events["event_id"].gather(owner),
                "event_name": events["event_name"].gather(owner),
                "item_index": layout["item_index"],
                "ref": pl.Series(self.refs, dtype=pl.UInt32),
            }
        ).join(catalogue, on="ref", how="left", maintain_order="left")
        items = lines.select(
            "owner",
            "event_id",
            pl.col("item_index").cast(pl.Int64),
            "item_id",
            "item_name",
            pl.lit(None, dtype=pl.String).alias("item_brand"),
            "item_category",
            "item_variant",
            "price_minor",
            # A view is of one unit; adds, removals and the cart carry the plan's quantities.
            pl.when(pl.col("event_name").is_in(_VIEWS))
            .then(pl.lit(1, dtype=pl.Int64))
            .otherwise(pl.col("planned_quantity"))
            .alias("quantity"),
            pl.when(pl.col("event_name") == "view_item_list")
            .then(pl.col("item_index"))
            .alias("item_list_index"),
        )
        values = items.group_by("owner").agg(
            (pl.col("price_minor") * pl.col("quantity")).sum().alias("_value")
        )
        has_value = pl.col("event_name") != "view_item_list"
        events = (
            events.with_row_index("owner")
            .join(values, on="owner", how="left", maintain_order="left")
            .with_columns(
                pl.when(has_value).then(pl.lit(currency)).alias("currency"),
                pl.when(has_value).then(pl.col("_value").fill_null(0)).alias("value_minor"),
            )
        )
        return events.select([pl.col(n).cast(t) for n, t in EVENT_COLUMNS.items()]), items.select(
            [pl.col(n).cast(t) for n, t in ITEM_COLUMNS.items()]
        )


_CHECKOUT = frozenset({"begin_checkout", "add_shipping_info", "add_payment_info"})


def build_frames(
    plans: Sequence[SessionPlan], rng: random.Random, *, currency: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events and items frames of ``plans`` (schemas: domain ``EVENT_COLUMNS``, ``ITEM_COLUMNS``).

    ``currency`` is the store's, put on every event that carries a value (all
    but view_item_list; the value is the items' price times quantity).
    Deterministic: the same plans and an rng in the same state give the same frames.
    """
    builder = _Builder(rng)
    for plan in plans:
        builder.session(plan)
    return builder.frames(currency)
