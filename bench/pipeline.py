"""Benchmark: the analytics pipeline on a demo store, as Dagster runs it.

1. Full materialization: a fresh lake and warehouse, every asset in ONE run of
   `refresh_all` (no server: the snapshot comes from the file).
2. Hourly refresh: a real `emporium serve` on the store takes an hour's worth of
   new orders, payments and clickstream events; then `refresh_all` runs as the
   hourly schedule asks (snapshot through the server's endpoint, incremental
   models, no full-history tests), posting the alerts to the server.

For each run: wall time, each step's time, dbt's own elapsed time and the sum of
its nodes' SQL time (run_results.json), so the share of Dagster and dbt
overhead shows. Runs use a persistent Dagster instance (SQLite in a temporary
DAGSTER_HOME), as the daemon does. Appends to bench/results/pipeline.{json,md}
(one entry per label, newest wins).

    python -m bench.pipeline --store DIR --label scale1-6m [--orders 300 --event-batches 40]
    python -m bench.pipeline --build --scale 10 --days 14 --label scale10-14d
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import orjson

from bench.harness import load_average, machine, now_iso
from bench.payments_and_events import PLACEHOLDER, event_bodies
from tests.e2e.live import LiveServer, free_port, guest_order_body, ok, stocked_sku
from transactional.demo.build import BuildOptions, build_demo
from transactional.storage.database import STORE_FILE

RESULTS = Path(__file__).resolve().parent / "results"
CARD = {"method": "card", "token": "tok_sandbox_ok", "card_brand": "visa", "card_last4": "4242"}


def store_counts(data_dir: Path) -> dict[str, int]:
    con = duckdb.connect(str(data_dir / STORE_FILE), read_only=True)
    try:
        return {
            t: int(con.execute(f"select count(*) from {t}").fetchone()[0])  # type: ignore[index]
            for t in ("orders", "order_lines", "storefront_events", "storefront_event_items", "ledger_lines")
        }
    finally:
        con.close()


def run_pipeline(
    data_dir: Path, home: Path, api_url: str, pipeline_key: str | None, config: dict[str, Any]
) -> dict[str, Any]:
    """One run of `refresh_all` in this process on a persistent instance; its timings."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.resources import StoreResource, WarehouseResource

    defs = build_definitions(
        {
            "store": StoreResource(data_dir=str(data_dir), api_url=api_url, pipeline_key=pipeline_key),
            "warehouse": WarehouseResource(
                warehouse_path=str(data_dir / "warehouse.duckdb"),
                marts_path=str(data_dir / "marts.duckdb"),
                dbt_target_dir=str(data_dir / "dbt-target"),
            ),
        }
    )
    job = defs.resolve_job_def("refresh_all")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            run_config={"ops": {"emporium_dbt_models": {"config": config}}},
            raise_on_error=False,
        )
        wall = time.perf_counter() - started
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise RuntimeError("pipeline run failed:\n" + "\n".join(str(f) for f in failures)[-4000:])
    steps = {
        e.step_key: round(e.event_specific_data.duration_ms / 1000, 2)  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_SUCCESS"
    }
    meta: dict[str, dict[str, Any]] = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_MATERIALIZATION":
            mat = e.event_specific_data.materialization  # type: ignore[union-attr]
            meta[mat.asset_key.to_user_string()] = {
                k: getattr(v, "value", v) for k, v in mat.metadata.items()
            }
    run_results = orjson.loads((data_dir / "dbt-target" / "run_results.json").read_bytes())
    dbt_elapsed = float(run_results["elapsed_time"])
    sql_time = sum(float(r["execution_time"]) for r in run_results["results"])
    dbt_step = steps.get("emporium_dbt_models", 0.0)
    return {
        "wall_s": round(wall, 2),
        "steps_s": steps,
        "dbt_elapsed_s": round(dbt_elapsed, 2),
        "dbt_nodes": len(run_results["results"]),
        "dbt_sql_time_sum_s": round(sql_time, 2),
        "dagster_overhead_s": round(wall - sum(steps.values()), 2),
        "dagster_dbt_wrapper_s": round(dbt_step - dbt_elapsed, 2),
        "snapshot_via": meta.get("lake/orders", {}).get("via"),
        "rows_added": sum(int(m.get("rows_added", 0) or 0) for k, m in meta.items() if k.startswith("lake/")),
        "alerts_posted": meta.get("inventory_alerts_posted", {}).get("posted"),
        "alerts": meta.get("inventory_alerts_posted", {}).get("alerts"),
    }


def an_hour_of_trade(
    server: LiveServer, keys: dict[str, str], orders: int, event_batches: int
) -> dict[str, int]:
    """New orders (paid by card) and clickstream batches through the API, as a busy hour brings them."""
    with server.client(keys["admin"]) as admin:
        skus = [stocked_sku(admin, f"pipeline bench {k}", stock=1_000_000)[0] for k in range(8)]
    sku_id = skus[0]
    placed = 0
    lock = threading.Lock()

    def shop(n: int) -> None:
        nonlocal placed
        with server.client(keys["storefront"]) as client:
            for _ in range(n):
                body = ok(client.post("/api/v1/orders", json=guest_order_body(sku_id)), 201)
                ok(
                    client.post(
                        f"/api/v1/orders/{body['order_id']}/payments",
                        json=CARD,
                        headers={"X-Order-Token": body["access_token"]},
                    ),
                    201,
                )
                with lock:
                    placed += 1

    threads = [threading.Thread(target=shop, args=(orders // 4,)) for _ in range(4)]
    for t in threads:
        t.start()
    bodies = event_bodies(
        250, event_batches, [(s, f"Bench item {k}", 1000) for k, s in enumerate(skus)], seed=11
    )
    inserted = 0
    with server.client(keys["storefront"]) as client:
        for k, body in enumerate(bodies):
            prefix = f"{k:08x}-{os.getpid() % 65536:04x}"
            r = client.post(
                "/api/v1/events",
                content=body.replace(PLACEHOLDER, prefix),
                headers={"Content-Type": "application/json"},
            )
            inserted += ok(r)["inserted"]
    for t in threads:
        t.join()
    return {"orders": placed, "events": inserted}


def bench(data_dir: Path, label: str, orders: int, event_batches: int) -> dict[str, Any]:
    keys = orjson.loads((data_dir / "demo-keys.json").read_bytes())
    counts = store_counts(data_dir)
    home = data_dir / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    full = run_pipeline(data_dir, home, f"http://127.0.0.1:{free_port()}", None, {})
    server = LiveServer(data_dir, free_port()).start()
    try:
        trade = an_hour_of_trade(server, keys, orders, event_batches)
        hourly = run_pipeline(
            data_dir, home, server.url, keys["pipeline"], {"full_history_tests": False, "unit_tests": False}
        )
    finally:
        server.terminate()
    return {
        "label": label,
        "store": counts,
        "full": full,
        "new_in_the_hour": trade,
        "hourly": hourly,
        "machine": machine(),
        "load_average": load_average(),
        "measured_at": now_iso(),
    }


def write(entry: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "pipeline.json"
    entries = [
        e for e in (json.loads(path.read_text()) if path.exists() else []) if e["label"] != entry["label"]
    ]
    entries.append(entry)
    path.write_text(json.dumps(entries, indent=2) + "\n")
    lines = [
        "# Analytics pipeline: full materialization and hourly refresh (`python -m bench.pipeline`)",
        "",
        "One run of `refresh_all` each, on a persistent Dagster instance. SQL time is the sum of dbt's",
        "node times (4 threads on 2 cores, so it exceeds dbt's wall time); Dagster overhead is the run's",
        "wall time outside its steps; the dbt wrapper is the dbt step's time outside dbt's own elapsed time.",
        "",
        "| store | orders | events | run | wall s | snapshot+validate s | dbt s (SQL Σ s) | publish s | alerts s "
        "| Dagster overhead s | dbt wrapper s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in entries:
        for run in ("full", "hourly"):
            r = e[run]
            s = r["steps_s"]
            lines.append(
                f"| {e['label']} | {e['store']['orders']:,} | {e['store']['storefront_events']:,} | {run} "
                f"| {r['wall_s']} | {s.get('lake_snapshot', 0)} | {r['dbt_elapsed_s']} ({r['dbt_sql_time_sum_s']}) "
                f"| {s.get('published_marts', 0)} | {s.get('inventory_alerts_posted', 0)} "
                f"| {r['dagster_overhead_s']} | {r['dagster_dbt_wrapper_s']} |"
            )
    lines += ["", "Hourly: " + "; ".join(
        f"{e['label']}: {e['new_in_the_hour']['orders']} orders and {e['new_in_the_hour']['events']:,} events "
        f"({e['hourly']['rows_added']:,} journal rows) since the full run, snapshot via {e['hourly']['snapshot_via']}, "
        f"alerts posted {e['hourly']['alerts_posted']}" for e in entries
    ), "", "Machine: " + "; ".join(f"{e['label']}: {e['machine']}, load {e['load_average']}, {e['measured_at']}" for e in entries)]  # fmt: skip
    (RESULTS / "pipeline.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store", type=Path, help="a data dir holding a built demo store (copied, never changed)"
    )
    parser.add_argument("--build", action="store_true", help="build a demo store first")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--label", required=True)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--event-batches", type=int, default=40, help="batches of 250 clickstream events")
    parser.add_argument(
        "--keep", type=Path, help="work in this new dir and keep it (e.g. for the dashboards bench)"
    )
    args = parser.parse_args()
    if bool(args.store) == args.build:
        parser.error("give either --store DIR or --build")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep} exists")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        if args.build:
            build_demo(BuildOptions(data_dir, months=args.months, days=args.days, scale=args.scale,
                                    end_date=date(2026, 11, 24)))  # fmt: skip
        else:
            for name in (STORE_FILE, "demo-keys.json"):
                shutil.copy(args.store / name, data_dir / name)
        entry = bench(data_dir, args.label, args.orders, args.event_batches)
    write(entry)
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
