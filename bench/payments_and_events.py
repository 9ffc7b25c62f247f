"""Benchmark: captures/s and clickstream event ingestion beside order placement, in one run.

One store (bench/harness.py's: the demo seed plus 200 SKUs with unlimited
stock), one ``emporium serve`` build, wrk on the same machine, and at each
concurrency (default 32 connections) median of 3 runs of 10 s each of:

a. order placement (bench/order.lua): the reference rate;
b. captures (bench/capture.lua): before the server starts, N guest orders are
   placed and paid with the sandbox card token ``tok_sandbox_ok`` in process,
   through the writer and the same services the API calls (place_order, then
   payment_flow.authorize_order: begin, provider call, record), from a pool of
   threads so that the writer group-commits them. Each capture request takes
   a payment id never sent before (POST /api/v1/payments/{id}/capture, the
   operator key), so every request captures a distinct authorized payment;
c. events (bench/events.lua): POST /api/v1/events with batches of 100, 250
   and 500 storefront events (GA4-shaped sessions over the bench SKUs), from
   a pool of pre-generated bodies in which each request stamps a fresh
   event_id prefix, so no event is ever a duplicate.

After SIGTERM the store is checked against what was acknowledged: payments
captured, orders placed and client events stored, each between the number
acknowledged and the number sent (a request still in flight when a wrk run
ends may be committed without its answer being counted).

    python -m bench.payments_and_events [--duration 10] [--connections 32] [--repeats 3]
        [--payments 40000] [--event-batches 100,250,500]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    HERE,
    RESULTS,
    build_store,
    cpu_cell,
    load_average,
    machine,
    now_iso,
    query_store,
    require_wrk,
    run_cell,
    run_wrk,
    serve,
    write_lua_list,
    write_results,
    writer_summary,
    wrk_version,
)
from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.demo.seed import SEED_ADMIN
from transactional.domain.words import DEVICES, TRAFFIC_SOURCES
from transactional.providers.payments import SandboxProvider
from transactional.services import orders, payment_flow
from transactional.services import payments as payment_svc

ORDER_LUA = HERE / "order.lua"
CAPTURE_LUA = HERE / "capture.lua"
EVENTS_LUA = HERE / "events.lua"
PLACEHOLDER = "@@@@@@@@-@@@@"  # the first 13 characters of every event_id; events.lua fills them
EVENTS_ROUTE = "/api/v1/events"


# -- authorized payments, made before the server starts -------------------------------------


def prepare_payments(data_dir: Path, skus: list[str], n: int, workers: int = 64) -> tuple[list[str], float]:
    """``n`` guest orders, each paid by card (sandbox ``tok_sandbox_ok``, authorized, not captured).

    In process, through the writer thread and the services the API calls, from ``workers`` threads
    so that the writer batches them. Returns the payment ids and the seconds it took.
    """
    runtime = open_runtime(Settings(data_dir=data_dir), holder="bench payments")
    writer = runtime.writer
    provider = SandboxProvider()
    card = payment_svc.AuthorizePayment(
        method="card", token="tok_sandbox_ok", card_brand="visa", card_last4="4242"
    )
    rngs = threading.local()

    def one(i: int) -> str:
        rng = getattr(rngs, "rng", None)
        if rng is None:
            rng = rngs.rng = random.Random(i)
        cmd = orders.PlaceOrder(
            guest_email=f"payer{i}@example.com",
            lines=[
                orders.LineIn(sku_id=rng.choice(skus), quantity=rng.randint(1, 2))
                for _ in range(rng.randint(1, 3))
            ],
            shipping_address=orders.ShippingAddress(
                name="Bench Payer",
                line1="1 Load St",
                city="Albany",
                region="NY",
                postal_code="12207",
                country="US",
            ),
            sales_channel="web",
            traffic_source="direct",
            device="desktop",
        )
        order = payment_flow.execute(writer, lambda u: orders.place_order(u, cmd), SEED_ADMIN).body
        paid = payment_flow.authorize_order(writer, provider, order["order_id"], card, SEED_ADMIN).body
        if paid.get("status") != "authorized":
            raise RuntimeError(f"payment of order {order['order_id']} is {paid.get('status')}: {paid}")
        return str(paid["payment_id"])

    started = time.monotonic()
    writer.start()
    try:
        with ThreadPoolExecutor(workers) as pool:
            ids = list(pool.map(one, range(n)))
    finally:
        writer.stop()
        runtime.close()
    return ids, time.monotonic() - started


# -- event bodies ----------------------------------------------------------------------------

_LISTS = [
    ("search_results", "Search results"),
    ("category_bench", "Bench widgets"),
    ("home_picks", "Home picks"),
]
_CAMPAIGNS = {
    "paid_search": ("google", "cpc", "spring_sale"),
    "social": ("instagram", "social", "new_widgets"),
    "email": ("newsletter", "email", "weekly_digest"),
}


def _session_events(
    rng: random.Random, skus: list[tuple[str, str, int]], now: datetime
) -> list[dict[str, Any]]:
    """One storefront session: a list view, item views, maybe a cart and a checkout."""
    source = rng.choice(sorted(TRAFFIC_SOURCES))
    device = rng.choices(sorted(DEVICES), weights=[5, 4, 1])[0]  # desktop, mobile, tablet
    offset = timezone(timedelta(hours=rng.choice([-8, -7, -5, -4, 0, 1])))
    at = now - timedelta(hours=rng.uniform(0.5, 48))
    base: dict[str, Any] = {
        "session_id": f"s{rng.getrandbits(64):016x}",
        "anonymous_id": f"a{rng.getrandbits(64):016x}",
        "traffic_source": source,
        "device": device,
    }
    if source in _CAMPAIGNS:
        base["utm_source"], base["utm_medium"], base["utm_campaign"] = _CAMPAIGNS[source]
    events: list[dict[str, Any]] = []

    def item(sku: tuple[str, str, int], quantity: int = 1, index: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item_id": sku[0],
            "item_name": sku[1],
            "price_minor": sku[2],
            "quantity": quantity,
        }
        if index is not None:
            out["index"] = index
            out["item_category"] = "Bench"
        return out

    def emit(name: str, **fields: Any) -> None:
        nonlocal at
        at += timedelta(seconds=rng.uniform(2, 90))
        stamp = at.astimezone(offset).isoformat(timespec="milliseconds")
        events.append({"event_id": "", "event_name": name, "timestamp": stamp, **base, **fields})

    list_id, list_name = rng.choice(_LISTS)
    listed = rng.sample(skus, rng.randint(3, 8))
    emit(
        "view_item_list",
        item_list_id=list_id,
        item_list_name=list_name,
        items=[item(s, index=k) for k, s in enumerate(listed)],
    )
    cart: list[dict[str, Any]] = []
    for sku in rng.sample(listed, rng.randint(1, min(3, len(listed)))):
        emit("view_item", currency="USD", value_minor=sku[2], items=[item(sku)])
        if rng.random() < 0.35:
            line = item(sku, rng.randint(1, 2))
            cart.append(line)
            emit("add_to_cart", currency="USD", value_minor=sku[2] * line["quantity"], items=[line])
    if cart:
        value = sum(line["price_minor"] * line["quantity"] for line in cart)
        emit("view_cart", currency="USD", value_minor=value, items=cart)
        if rng.random() < 0.6:
            emit("begin_checkout", currency="USD", value_minor=value, items=cart)
            emit("add_shipping_info", currency="USD", value_minor=value, shipping_tier="standard", items=cart)
            emit("add_payment_info", currency="USD", value_minor=value, payment_type="card", items=cart)
    return events


def event_bodies(batch: int, count: int, skus: list[tuple[str, str, int]], seed: int) -> list[str]:
    """``count`` request bodies of ``batch`` events each, event_ids starting with PLACEHOLDER."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    bodies = []
    for template in range(count):
        events: list[dict[str, Any]] = []
        while len(events) < batch:
            events.extend(_session_events(rng, skus, now))
        events = events[:batch]
        for k, event in enumerate(events):
            # PLACEHOLDER-4ttt-8kkk-<random>: distinct within a body; the prefix makes it unique per request.
            event["event_id"] = f"{PLACEHOLDER}-4{template % 4096:03x}-8{k:03x}-{rng.getrandbits(48):012x}"
        bodies.append(json.dumps({"events": events}, separators=(",", ":")))
    return bodies


def events_endpoint_answers(url: str, key: str, skus: list[tuple[str, str, int]]) -> str | None:
    """None if POST /api/v1/events takes a valid event, else why not."""
    body = event_bodies(1, 1, skus, seed=0)[0].replace(PLACEHOLDER, str(uuid.uuid4())[:13])
    try:
        r = httpx.post(
            url + EVENTS_ROUTE,
            content=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=10,
        )
    except httpx.HTTPError as err:
        return f"{EVENTS_ROUTE}: {err}"
    if r.status_code != 200:
        return f"{EVENTS_ROUTE} answered {r.status_code}: {r.text[:300]}"
    return None


# -- the run ---------------------------------------------------------------------------------


class Tally:
    """What was sent and acknowledged over every wrk run (warm-ups included), per kind."""

    def __init__(self) -> None:
        self.acked = {"orders": 0, "captures": 0, "events": 0}
        self.sent = {"orders": 0, "captures": 0, "events": 0}
        self.capture_offset = 0  # payment ids[1..offset] may have been sent
        self.exhausted = False
        self.event_run = 0

    def orders(self, run: dict[str, Any]) -> None:
        self.acked["orders"] += run["requests"] - run["non_2xx"]
        self.sent["orders"] += run["requests"] + run["connections"]  # at most one in flight per connection

    def captures(self, run: dict[str, Any]) -> None:
        script = run["script"]
        self.acked["captures"] += run["requests"] - run["non_2xx"]
        self.sent["captures"] += int(script["sent"])
        self.capture_offset = max(self.capture_offset, int(script["last_index"]))
        self.exhausted = self.exhausted or bool(script["exhausted"])

    def events(self, run: dict[str, Any], batch: int) -> None:
        script = run["script"]
        self.acked["events"] += int(script["inserted"])
        self.sent["events"] += int(script["sent"]) * batch
        per_s = 1 / run["elapsed_s"] if run["elapsed_s"] else 0.0
        run["events_received_per_s"] = round(script["received"] * per_s)
        run["events_inserted_per_s"] = round(script["inserted"] * per_s)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", default="32", help="e.g. 8,32,128")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the median run is reported")
    parser.add_argument("--payments", type=int, default=0, help="authorized payments to make (0: estimate)")
    parser.add_argument("--event-batches", default="100,250,500")
    parser.add_argument("--event-bodies", type=int, default=64, help="distinct bodies per batch size")
    parser.add_argument("--out", default=str(RESULTS / "payments_and_events"))
    args = parser.parse_args()
    require_wrk()
    conns = [int(c) for c in args.connections.split(",")]
    batches = [int(b) for b in args.event_batches.split(",") if b]
    # Enough for every capture run (and the warm-up) at up to 500 captures/s.
    n_payments = args.payments or int(500 * (args.duration * args.repeats * len(conns) + 2) * 1.1)

    data_dir = Path(tempfile.mkdtemp(prefix="emporium-bench-pe-"))
    try:
        measure(args, conns, batches, n_payments, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure(
    args: argparse.Namespace, conns: list[int], batches: list[int], n_payments: int, data_dir: Path
) -> None:
    """Build the store in ``data_dir``, authorize the payments, serve, measure, check, write results."""
    started = time.monotonic()
    keys, sku_ids = build_store(data_dir)
    print(
        f"store built in {time.monotonic() - started:.0f} s; authorizing {n_payments:,} payments", flush=True
    )
    payment_ids, prep_seconds = prepare_payments(data_dir, sku_ids, n_payments)
    print(f"{len(payment_ids):,} payments authorized in {prep_seconds:.0f} s", flush=True)

    skus = [(s, f"Widget {i}", 999 + 10 * i) for i, s in enumerate(sku_ids)]
    lua_skus = write_lua_list(data_dir / "skus.lua", sku_ids)
    lua_payments = write_lua_list(data_dir / "payments.lua", payment_ids)
    body_files: dict[int, Path] = {}
    body_bytes: dict[int, int] = {}
    for b in batches:
        bodies = event_bodies(b, args.event_bodies, skus, seed=b)
        body_files[b] = data_dir / f"events-{b}.jsonl"
        body_files[b].write_text("\n".join(bodies) + "\n")
        body_bytes[b] = round(statistics.mean(len(x) for x in bodies))
    order_env = {"EMPORIUM_BENCH_SKUS": str(lua_skus), "EMPORIUM_BENCH_KEY": keys["storefront"]}

    tally = Tally()
    cells: list[dict[str, Any]] = []

    def capture_env() -> dict[str, str]:
        return {
            "EMPORIUM_BENCH_PAYMENTS": str(lua_payments),
            "EMPORIUM_BENCH_KEY": keys["operator"],
            "EMPORIUM_BENCH_OFFSET": str(tally.capture_offset),
        }

    def events_env(batch: int) -> Any:
        def env() -> dict[str, str]:
            tally.event_run += 1
            return {
                "EMPORIUM_BENCH_EVENTS": str(body_files[batch]),
                "EMPORIUM_BENCH_KEY": keys["storefront"],
                "EMPORIUM_BENCH_RUN": str(tally.event_run),
            }

        return env

    def report(cell: dict[str, Any]) -> None:
        cells.append(cell)
        print(json.dumps({k: v for k, v in cell.items() if k != "runs"}), flush=True)

    with serve(data_dir) as server:
        pid = server.proc.pid  # type: ignore[union-attr]
        url = server.url
        events_missing = events_endpoint_answers(url, keys["storefront"], skus)
        if events_missing:
            print(f"events not measured: {events_missing}", flush=True)
        else:
            tally.acked["events"] += 1
            tally.sent["events"] += 1
        # Warm-ups (2 s at 8 connections), counted in the store check.
        tally.orders(run_wrk(url, ORDER_LUA, 8, 2, order_env, server_pid=pid))
        tally.captures(run_wrk(url, CAPTURE_LUA, 8, 2, capture_env(), server_pid=pid))
        if not events_missing:
            tally.events(run_wrk(url, EVENTS_LUA, 8, 2, events_env(batches[0])(), server_pid=pid), batches[0])

        for c in conns:
            common = {"repeats": args.repeats, "server_pid": pid}
            cell = run_cell(url, ORDER_LUA, c, args.duration, order_env, after_each=tally.orders, **common)
            report({"kind": "orders", **cell})
            cell = run_cell(
                url, CAPTURE_LUA, c, args.duration, capture_env, after_each=tally.captures, **common
            )
            report({"kind": "captures", **cell})
            if events_missing:
                continue
            for b in batches:
                cell = run_cell(
                    url,
                    EVENTS_LUA,
                    c,
                    args.duration,
                    events_env(b),
                    after_each=lambda run, b=b: tally.events(run, b),
                    **common,
                )
                # The median run by requests/s is the median by events/s too (same batch size).
                report(
                    {
                        "kind": "events",
                        "batch": b,
                        **cell,
                        "events_inserted_per_s_all": [r["events_inserted_per_s"] for r in cell["runs"]],
                    }
                )
    rc = server.proc.returncode  # type: ignore[union-attr]

    store = query_store(
        data_dir,
        {
            "payments_captured": "select count(*) from payments where status = 'captured'",
            "payments_authorized": "select count(*) from payments where status = 'authorized'",
            "captured_minor": "select coalesce(sum(captured_minor), 0) from payments",
            "ledger_unbalanced_postings": "select count(*) from (select posting_id from ledger_lines "
            "group by posting_id having sum(debit_minor) <> sum(credit_minor))",
            "orders_in_store": "select count(*) from orders",
            **(
                {"client_events": "select count(*) from storefront_events where source = 'client'"}
                if not events_missing
                else {}
            ),
        },
    )
    store["writer"] = writer_summary(server)
    store["exit_code"] = rc
    n_orders_before = len(payment_ids)
    check = {
        "store": store,
        "acknowledged": tally.acked,
        "sent_at_most": tally.sent,
        "captures_ok": tally.acked["captures"] <= store["payments_captured"] <= tally.sent["captures"],
        "orders_ok": tally.acked["orders"]
        <= store["orders_in_store"] - n_orders_before
        <= tally.sent["orders"],
        "events_ok": None
        if events_missing
        else tally.acked["events"] <= store["client_events"] <= tally.sent["events"],
        "payment_ids_exhausted": tally.exhausted,
    }
    print(json.dumps(check), flush=True)
    meta = {
        "when": now_iso(),
        "machine": machine(),
        "load_average_at_end": load_average(),
        "load_generator": f"{wrk_version()} (same machine): bench/order.lua, bench/capture.lua, bench/events.lua",
        "duration_s": args.duration,
        "repeats": args.repeats,
        "payments_prepared": len(payment_ids),
        "payments_prepare_s": round(prep_seconds, 1),
        "event_body_bytes": body_bytes,
        "events_not_measured": events_missing,
        "cpu": "CPU shares: percent of the machine (wall time × cores) used by wrk, by the server and "
        "by everything else during the run",
    }
    write_pe_results(Path(args.out), meta, cells, check)


def write_pe_results(
    out: Path, meta: dict[str, Any], cells: list[dict[str, Any]], check: dict[str, Any]
) -> None:
    n = meta["repeats"]
    lines = [
        f"Payments and events through HTTP ({meta['when']}, {meta['machine']}; load: {meta['load_generator']}; "
        f"{meta['duration_s']} s per run, median of {n} runs per cell; one server and store for every cell; "
        f"load average at the end {meta['load_average_at_end']}).",
        "",
        "| clients | what | requests/s | events/s received | events/s inserted | p50 ms | p99 ms "
        "| CPU wrk / server / other % | per run (requests/s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for cell in cells:
        what = {"orders": "order placement", "captures": "captures"}.get(cell["kind"])
        received = inserted = "–"
        if cell["kind"] == "events":
            what = f"events, batches of {cell['batch']}"
            received = f"{cell['events_received_per_s']:,}"
            inserted = f"{cell['events_inserted_per_s']:,}"
        cpu = cpu_cell(cell)
        per_run = ", ".join(f"{x:,.0f}" for x in cell["req_per_s_all"])
        lines.append(
            f"| {cell['connections']} | {what} | {cell['req_per_s']:,.0f} | {received} | {inserted} "
            f"| {cell.get('p50_ms', '–')} | {cell.get('p99_ms', '–')} | {cpu} | {per_run} |"
        )
    lines.append("")
    by = {(c["kind"], c["connections"]): c for c in cells}
    for c in sorted({c["connections"] for c in cells}):
        orders, captures = by.get(("orders", c)), by.get(("captures", c))
        if orders and captures and orders["req_per_s"]:
            ratio = captures["req_per_s"] / orders["req_per_s"]
            lines.append(
                f"At {c} connections: captures/s ÷ orders/s = {captures['req_per_s']:,.0f} ÷ "
                f"{orders['req_per_s']:,.0f} = {ratio:.2f} (target ≥ 0.5)."
            )
    if meta["events_not_measured"]:
        lines.append(f"Events not measured: {meta['events_not_measured']}.")
    store, acked, sent = check["store"], check["acknowledged"], check["sent_at_most"]
    non2xx = sum(c["non_2xx"] for c in cells)
    lines += [
        "",
        f"Non-2xx responses over all timed runs: {non2xx}. Store after SIGTERM (exit code {store['exit_code']}): "
        f"{store['payments_captured']:,} payments captured (acknowledged {acked['captures']:,}, sent "
        f"{sent['captures']:,}: {'ok' if check['captures_ok'] else 'MISMATCH'}), "
        f"{store['payments_authorized']:,} still authorized, "
        f"{store['ledger_unbalanced_postings']} unbalanced ledger postings; "
        f"{store['orders_in_store'] - meta['payments_prepared']:,} orders placed over HTTP (acknowledged "
        f"{acked['orders']:,}: {'ok' if check['orders_ok'] else 'MISMATCH'})"
        + (
            f"; {store['client_events']:,} client events (inserted {acked['events']:,}, sent {sent['events']:,}: "
            f"{'ok' if check['events_ok'] else 'MISMATCH'})"
            if "client_events" in store
            else ""
        )
        + f". Writer: {store['writer']}.",
        f"{meta['payments_prepared']:,} authorized payments were made before the server started, in "
        f"{meta['payments_prepare_s']:.0f} s (in process, through the writer and the payment services)"
        + (
            ". The payment ids ran out: the capture figures are not valid."
            if check["payment_ids_exhausted"]
            else "."
        ),
    ]
    if meta["event_body_bytes"]:
        sizes = ", ".join(f"{b} events ≈ {v / 1024:,.0f} KiB" for b, v in meta["event_body_bytes"].items())
        lines.append(f"Event request bodies: {sizes}.")
    write_results(out, {**meta, "store_check": check}, cells, lines)


if __name__ == "__main__":
    main()
