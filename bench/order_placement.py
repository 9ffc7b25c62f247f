"""Benchmark: durable order placement through HTTP, by concurrency and writer batch size.

Load comes from wrk (C, from Debian's packages) with bench/order.lua, on the
same 2-core machine as the server. For each writer batch size (256 = group
commit, 1 = a commit per request) a fresh server runs 1, 8, 32 and 128
connections; afterwards the store is checked: every 201 is an order in the
file, and Σ stock movements = stock levels.

    python -m bench.order_placement [--duration 10] [--connections 1,8,32,128] [--batches 256,1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tests.e2e.live import LiveServer, free_port
from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.demo.seed import SEED_ADMIN, seed_store
from transactional.services import catalogue, inventory

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
N_SKUS = 200


def build_store(data_dir: Path) -> tuple[str, list[str]]:
    """The demo seed plus 200 SKUs with effectively unlimited stock in both warehouses."""
    runtime = open_runtime(Settings(data_dir=data_dir), holder="bench")
    try:
        w = runtime.writer
        keys = seed_store(w)["keys"]
        cat = w.run(
            lambda u: catalogue.create_category(u, catalogue.CreateCategory(name="Bench")), SEED_ADMIN
        ).body
        prod = w.run(
            lambda u: catalogue.create_product(
                u,
                catalogue.CreateProduct(
                    name="Bench Widget", category_id=cat["category_id"], tax_class="standard"
                ),
            ),
            SEED_ADMIN,
        ).body
        warehouses = [r["warehouse_id"] for r in w.state.scan("warehouses")]
        skus = []
        for i in range(N_SKUS):
            sku = w.run(
                lambda u, i=i: catalogue.create_sku(
                    u,
                    prod["product_id"],
                    catalogue.CreateSku(
                        sku_code=f"BENCH-{i:04d}",
                        name=f"Widget {i}",
                        unit_cost_minor=400 + i,
                        price_minor=999 + 10 * i,
                    ),
                ),
                SEED_ADMIN,
            ).body
            skus.append(sku["sku_id"])
            for wh in warehouses:
                w.run(
                    lambda u, s=sku["sku_id"], wh=wh: inventory.adjust_stock(
                        u, s, wh, inventory.AdjustStock(delta=10_000_000, reason="bench stock")
                    ),
                    SEED_ADMIN,
                )
        return keys["storefront"], skus
    finally:
        runtime.close()


_LAT = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def run_wrk(url: str, connections: int, duration: int, env: dict[str, str]) -> dict[str, Any]:
    threads = 1 if connections < 8 else 2
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "order.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {f"p{p}_ms": round(float(v) * scale[u], 2) for p, v, u in _LAT.findall(out)}
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "connections": connections,
        "requests": total,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        **latency,
    }


def check_store(data_dir: Path) -> dict[str, Any]:
    con = duckdb.connect(str(data_dir / "store.duckdb"), read_only=True)
    try:
        orders = con.execute("select count(*) from orders").fetchone()[0]  # type: ignore[index]
        mismatched = con.execute(
            "select count(*) from stock_levels l left join (select sku_id, warehouse_id, sum(on_hand_delta) oh, "
            "sum(reserved_delta) rs from stock_movements group by all) m using (sku_id, warehouse_id) "
            "where l.on_hand <> coalesce(m.oh, 0) or l.reserved <> coalesce(m.rs, 0)"
        ).fetchone()[0]  # type: ignore[index]
        return {"orders_in_store": orders, "journal_mismatches": mismatched}
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", default="1,8,32,128")
    parser.add_argument("--batches", default="256,1")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the median run is reported")
    parser.add_argument("--out", default=str(RESULTS / "order_placement"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (make bench does it)")
    conns = [int(c) for c in args.connections.split(",")]
    runs: list[dict[str, Any]] = []
    for batch in (int(b) for b in args.batches.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix=f"emporium-bench-{batch}-"))
        key, skus = build_store(data_dir)
        lua_skus = data_dir / "skus.lua"
        lua_skus.write_text("return {" + ",".join(f'"{s}"' for s in skus) + "}\n")
        env = {"EMPORIUM_BENCH_SKUS": str(lua_skus), "EMPORIUM_BENCH_KEY": key}
        server = LiveServer(
            data_dir, free_port(), env={"EMPORIUM_MAX_BATCH": str(batch), "EMPORIUM_LOG_LEVEL": "INFO"}
        ).start()
        try:
            run_wrk(server.url, 8, 2, env)  # warm-up
            for c in conns:
                tries = [run_wrk(server.url, c, args.duration, env) for _ in range(args.repeats)]
                median = sorted(tries, key=lambda r: r["req_per_s"])[len(tries) // 2]
                result = {
                    "max_batch": batch,
                    **median,
                    "req_per_s_all": [r["req_per_s"] for r in tries],
                    "non_2xx": sum(r["non_2xx"] for r in tries),
                }
                print(json.dumps(result), flush=True)
                runs.append(result)
        finally:
            rc = server.terminate()
        store = check_store(data_dir)
        store["writer"] = next(
            (
                line.split('"msg":"writer stopped: ')[1].split('"')[0]
                for line in server.log().splitlines()
                if "writer stopped" in line
            ),
            "no statistics logged",
        )
        print(json.dumps({"max_batch": batch, "exit_code": rc, **store}), flush=True)
        for r in runs:
            if r["max_batch"] == batch:
                r["store_check"] = store
        shutil.rmtree(data_dir, ignore_errors=True)
    write_results(Path(args.out), runs, args.duration)


def write_results(out: Path, runs: list[dict[str, Any]], duration: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_generator": "wrk 4.1 (same machine), bench/order.lua, guest orders of 1-3 lines with Idempotency-Key",
        "duration_s": duration,
    }
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=2))
    by = {(r["max_batch"], r["connections"]): r for r in runs}
    lines = [
        f"Order placement through HTTP ({meta['when']}, {meta['machine']}; load: {meta['load_generator']}; "
        f"{duration} s per run, median of {len(runs[0]['req_per_s_all'])} runs per cell).",
        "",
        "| clients | batch 256: orders/s | p50 ms | p99 ms | batch 1: orders/s | p50 ms | p99 ms | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in sorted({r["connections"] for r in runs}):
        g, s = by.get((256, c)), by.get((1, c))
        ratio = f"{g['req_per_s'] / s['req_per_s']:.1f}×" if g and s and s["req_per_s"] else "–"

        def cells(r: dict[str, Any] | None) -> str:
            if not r:
                return "– | – | –"
            return f"{r['req_per_s']:,.0f} | {r.get('p50_ms', '–')} | {r.get('p99_ms', '–')}"

        lines.append(f"| {c} | {cells(g)} | {cells(s)} | {ratio} |")
    non2xx = sum(r["non_2xx"] for r in runs)
    lines += ["", f"Non-2xx responses over all runs: {non2xx}."]
    for batch in sorted({r["max_batch"] for r in runs}, reverse=True):
        check = next(r["store_check"] for r in runs if r["max_batch"] == batch)
        lines.append(
            f"Batch {batch}: {check['orders_in_store']:,} orders in the store after SIGTERM, "
            f"{check['journal_mismatches']} stock rows where Σ movements ≠ level; writer: {check['writer']}."
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
