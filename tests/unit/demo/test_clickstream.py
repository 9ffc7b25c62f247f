"""The clickstream synthesizer: deterministic per seed, strictly rising times per session, and
events that the frame validator (the same rules as the HTTP endpoint) accepts."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import polars as pl

from transactional.demo.clickstream import ListView, PlanItem, SessionPlan, build_frames, event_uuid
from transactional.domain.event_frames import EVENT_COLUMNS, ITEM_COLUMNS, validate_frames

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MUG = PlanItem("sku_0000018f3a2b4c5d6e7f8a9b", "Stoneware Mug", "Home", "Sand", 1800)
TEE = PlanItem("sku_0000018f3a2b4c5d6e7f8a9c", "Merino Crew Tee", "Apparel", "M", 3800)
KETTLE = PlanItem("sku_0000018f3a2b4c5d6e7f8a9d", "Pour-over Kettle", "Home", None, 5900)


def plans(n: int = 50) -> list[SessionPlan]:
    rng = random.Random(1)
    out = []
    for s in range(n):
        added = (
            (PlanItem(MUG.sku_id, MUG.name, MUG.category, MUG.variant, MUG.price_minor, 2),) if s % 2 else ()
        )
        checkout = s % 4 == 1
        out.append(
            SessionPlan(
                session_id=f"s.{s}",
                anonymous_id=f"GA1.{rng.randrange(10**9)}",
                customer_id="cus_0123456789abcdef01234567" if s % 3 == 0 else None,
                started_at=START + timedelta(minutes=7 * s),
                traffic_source="email" if s % 5 == 0 else "organic",
                utm_source="newsletter" if s % 5 == 0 else None,
                device="mobile",
                lists=(ListView("cat:home", "Home", (MUG, KETTLE)),) if s % 3 else (),
                viewed=(MUG, TEE) if s % 2 else (TEE,),
                added=added,
                removed=(PlanItem(MUG.sku_id, MUG.name, MUG.category, MUG.variant, MUG.price_minor),)
                if s % 8 == 1
                else (),
                view_cart=bool(added),
                begin_checkout=checkout,
                add_shipping_info=checkout,
                add_payment_info=checkout,
                shipping_tier="standard" if checkout else None,
                payment_type="card" if checkout else None,
            )
        )
    return out


def test_event_ids_are_the_uuids_uuid_would_make() -> None:
    a, b = random.Random(3), random.Random(3)
    for _ in range(200):
        assert event_uuid(a) == str(uuid.UUID(int=b.getrandbits(128), version=4))


def test_a_seed_reproduces_the_same_frames() -> None:
    first = build_frames(plans(), random.Random(42), currency="USD")
    again = build_frames(plans(), random.Random(42), currency="USD")
    other = build_frames(plans(), random.Random(43), currency="USD")
    assert first[0].equals(again[0]) and first[1].equals(again[1])
    assert not first[0]["event_id"].equals(other[0]["event_id"])
    assert first[0].schema == pl.Schema(EVENT_COLUMNS) and first[1].schema == pl.Schema(ITEM_COLUMNS)


def test_times_rise_within_each_session_and_start_at_its_start() -> None:
    events, _ = build_frames(plans(), random.Random(42), currency="USD")
    per_session = events.group_by("session_id", maintain_order=True).agg(
        pl.col("timestamp").first().alias("first"),
        (pl.col("timestamp").diff().drop_nulls() > timedelta(seconds=0)).all().alias("rising"),
        pl.col("timestamp").diff().max().alias("longest"),
    )
    assert per_session["rising"].all()
    assert per_session["first"].to_list() == [p.started_at for p in plans()]
    assert per_session["longest"].max() <= timedelta(minutes=10, seconds=1)  # type: ignore[operator]


def test_the_funnel_follows_the_plan() -> None:
    events, items = build_frames(plans(2), random.Random(42), currency="USD")
    names = events.group_by("session_id", maintain_order=True).agg("event_name")["event_name"].to_list()
    assert names == [
        ["view_item"],
        [
            "view_item_list",
            "view_item",
            "add_to_cart",
            "view_item",
            "remove_from_cart",
            "view_cart",
            "begin_checkout",
            "add_shipping_info",
            "add_payment_info",
        ],
    ]
    second = events.filter(pl.col("session_id") == "s.1")
    cart = items.join(second.filter(pl.col("event_name") == "add_payment_info"), on="event_id")
    # Two mugs added, one removed: the cart holds one, and the event's value says so.
    assert cart.select("item_id", "quantity", "price_minor").rows() == [(MUG.sku_id, 1, 1800)]
    assert second.filter(pl.col("event_name") == "add_payment_info")["value_minor"].to_list() == [1800]
    listed = items.join(second.filter(pl.col("event_name") == "view_item_list"), on="event_id")
    assert listed.select("item_index", "item_list_index", "item_id").rows() == [
        (0, 0, MUG.sku_id),
        (1, 1, KETTLE.sku_id),
    ]


def test_the_events_are_valid() -> None:
    events, items = build_frames(plans(), random.Random(42), currency="USD")
    now = events["timestamp"].max() + timedelta(minutes=1)  # type: ignore[operator]
    valid = validate_frames(events, items, now=now, store_currency="USD")
    assert valid.events.height == events.height and valid.items.height == items.height
