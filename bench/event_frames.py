"""In-process throughput of the demo's clickstream path: build frames, validate, ingest (issue 5).

Simulated days of ~5,500 sessions (~30k events each) go through
``clickstream.build_frames`` and ``storefront_events.ingest_frames`` on a real
store file in a temp dir, one writer command per day (``Writer.run`` with the
day's instant), as the demo build does. Prints seconds and events/s of
building the frames, validating them, claiming ids and staging, and the writer's
Arrow inserts and commit (``Writer.stats['flush_seconds']``).

    .venv/bin/python bench/event_frames.py --days 1
    .venv/bin/python bench/event_frames.py --events 1000000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from transactional.demo.clickstream import ListView, PlanItem, SessionPlan, build_frames
from transactional.domain.access import Actor
from transactional.domain.clock import ManualClock
from transactional.domain.event_frames import validate_frames
from transactional.domain.ids import IdGenerator
from transactional.services.store import create_store
from transactional.services.storefront_events import ingest_frames
from transactional.storage.database import connect, migrate
from transactional.storage.writer import Writer

ADMIN = Actor(role="admin", key_id="key_bench")
START = datetime(2026, 1, 1, tzinfo=UTC)


def catalogue(rng: random.Random, n: int = 400) -> list[PlanItem]:
    categories = ["Apparel", "Footwear", "Home", "Grocery", "Outdoor"]
    return [
        PlanItem(
            f"sku_{i:024x}",
            f"Product {i}",
            rng.choice(categories),
            rng.choice(["S", "M", "L", None]),
            rng.randrange(500, 20_000),
        )
        for i in range(n)
    ]


def day_plans(rng: random.Random, skus: list[PlanItem], day: int, sessions: int) -> list[SessionPlan]:
    base = START + timedelta(days=day)
    plans = []
    for s in range(sessions):
        lists = tuple(
            ListView(f"cat:{k}", f"Category {k}", tuple(rng.sample(skus, 8)))
            for k in range(rng.choice((0, 1, 1, 2)))
        )
        viewed = tuple(rng.sample(skus, rng.choice((0, 1, 1, 2, 3))))
        added = tuple(
            PlanItem(v.sku_id, v.name, v.category, v.variant, v.price_minor, rng.randint(1, 2))
            for v in viewed
            if rng.random() < 0.3
        )
        checkout = bool(added) and rng.random() < 0.5
        plans.append(
            SessionPlan(
                session_id=f"s{day}.{s}",
                anonymous_id=f"a.{rng.randrange(10**9)}",
                customer_id=None,
                started_at=base + timedelta(seconds=rng.randrange(0, 80_000)),
                traffic_source=rng.choice(["organic", "email", "direct", "paid_search"]),
                device=rng.choice(["desktop", "mobile"]),
                lists=lists,
                viewed=viewed,
                added=added,
                view_cart=bool(added),
                begin_checkout=checkout,
                add_shipping_info=checkout,
                add_payment_info=checkout and rng.random() < 0.8,
                shipping_tier="standard" if checkout else None,
                payment_type="card" if checkout else None,
            )
        )
    return plans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=0)
    parser.add_argument("--events", type=int, default=0, help="run days until this many events")
    parser.add_argument("--sessions", type=int, default=5_500, help="sessions per day")
    parser.add_argument("--checkpoint-threshold", help="DuckDB checkpoint_threshold, e.g. 1GB (default 16MB)")
    args = parser.parse_args()
    rng = random.Random(5)
    skus = catalogue(rng)
    clock = ManualClock(START)
    totals = {"events": 0, "items": 0, "build": 0.0, "validate": 0.0, "ingest": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp))
        migrate(con)
        if args.checkpoint_threshold:
            con.execute(f"set checkpoint_threshold = '{args.checkpoint_threshold}'")
        writer = Writer(con, clock, IdGenerator(clock, seed=1))
        writer.run(
            lambda uow: create_store(uow, name="Bench", currency="USD", timezone="UTC", tax_mode="exclusive"),
            ADMIN,
        )
        setup_flush = writer.stats["flush_seconds"]
        day = 0
        while (args.days and day < args.days) or (args.events and totals["events"] < args.events):
            plans = day_plans(rng, skus, day, args.sessions)
            started = time.perf_counter()
            events, items = build_frames(plans, rng, currency="USD")
            totals["build"] += time.perf_counter() - started
            at = START + timedelta(days=day + 1)
            started = time.perf_counter()
            validate_frames(events, items, now=at, store_currency="USD")
            totals["validate"] += time.perf_counter() - started
            started = time.perf_counter()
            counts = writer.run(lambda uow, e=events, i=items: ingest_frames(uow, e, i), ADMIN, at=at).body
            totals["ingest"] += time.perf_counter() - started
            assert counts["inserted"] == events.height, counts
            totals["events"] += events.height
            totals["items"] += items.height
            day += 1
        flush = writer.stats["flush_seconds"] - setup_flush
        stored = con.execute("select count(*) from storefront_events").fetchone()
        con.close()
    n = totals["events"]
    stage = totals["ingest"] - totals["validate"] - flush
    print(f"{day} days, {n:,} events, {totals['items']:,} items, {stored[0]:,} stored")
    print(f"build frames   {totals['build']:6.2f} s  {n / totals['build']:>12,.0f} events/s")
    print(f"validate       {totals['validate']:6.2f} s  {n / totals['validate']:>12,.0f} events/s")
    print(f"claim+stage    {stage:6.2f} s  {n / stage:>12,.0f} events/s")
    print(f"insert+commit  {flush:6.2f} s  {n / flush:>12,.0f} events/s  (Writer.stats flush_seconds)")
    print(f"ingest_frames  {totals['ingest']:6.2f} s  {n / totals['ingest']:>12,.0f} events/s")


if __name__ == "__main__":
    main()
