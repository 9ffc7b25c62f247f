"""Benchmark: durable order placement through HTTP, by concurrency and writer batch size.

Load comes from wrk (C, from Debian's packages) with bench/order.lua, on the
same 2-core machine as the server. For each writer batch size (256 = group
commit, 1 = a commit per request) a fresh server runs 1, 8, 32 and 128
connections; afterwards the store is checked: every 201 is an order in the
file, and Σ stock movements = stock levels. The harness (bench/harness.py)
also reports the share of the machine's CPU that wrk and the server used.

    python -m bench.order_placement [--duration 10] [--connections 1,8,32,128] [--batches 256,1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import (
    HERE,
    RESULTS,
    build_store,
    check_store,
    cpu_cell,
    machine,
    now_iso,
    require_wrk,
    run_cell,
    run_wrk,
    serve,
    write_lua_list,
    write_results,
    writer_summary,
)

ORDER_LUA = HERE / "order.lua"


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
    require_wrk()
    conns = [int(c) for c in args.connections.split(",")]
    runs: list[dict[str, Any]] = []
    for batch in (int(b) for b in args.batches.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix=f"emporium-bench-{batch}-"))
        try:
            keys, skus = build_store(data_dir)
            lua_skus = write_lua_list(data_dir / "skus.lua", skus)
            env = {"EMPORIUM_BENCH_SKUS": str(lua_skus), "EMPORIUM_BENCH_KEY": keys["storefront"]}
            with serve(data_dir, batch) as server:
                pid = server.proc.pid  # type: ignore[union-attr]
                run_wrk(server.url, ORDER_LUA, 8, 2, env)  # warm-up
                for c in conns:
                    cell = run_cell(
                        server.url, ORDER_LUA, c, args.duration, env, repeats=args.repeats, server_pid=pid
                    )
                    result = {"max_batch": batch, **cell}
                    print(json.dumps({k: v for k, v in result.items() if k != "runs"}), flush=True)
                    runs.append(result)
            store = check_store(data_dir)
            store["writer"] = writer_summary(server)
            rc = server.proc.returncode  # type: ignore[union-attr]
            print(json.dumps({"max_batch": batch, "exit_code": rc, **store}), flush=True)
            for r in runs:
                if r["max_batch"] == batch:
                    r["store_check"] = store
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    write_order_results(Path(args.out), runs, args.duration)


def write_order_results(
    out: Path, runs: list[dict[str, Any]], duration: int, when: str | None = None
) -> None:
    meta = {
        "when": when or now_iso(),
        "machine": machine(),
        "load_generator": "wrk 4.1 (same machine), bench/order.lua, guest orders of 1-3 lines with Idempotency-Key",
        "duration_s": duration,
        "cpu": "CPU shares: percent of the machine (wall time × cores) used by wrk, by the server and "
        "by everything else during the run; the rest is idle",
    }
    by = {(r["max_batch"], r["connections"]): r for r in runs}
    lines = [
        f"Order placement through HTTP ({meta['when']}, {meta['machine']}; load: {meta['load_generator']}; "
        f"{duration} s per run, median of {len(runs[0]['req_per_s_all'])} runs per cell; "
        "CPU = % of the machine used by wrk / the server / other processes during the median run).",
        "",
        "| clients | batch 256: orders/s | p50 ms | p99 ms | CPU wrk / server / other % "
        "| batch 1: orders/s | p50 ms | p99 ms | CPU wrk / server / other % | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in sorted({r["connections"] for r in runs}):
        g, s = by.get((256, c)), by.get((1, c))
        ratio = f"{g['req_per_s'] / s['req_per_s']:.1f}×" if g and s and s["req_per_s"] else "–"

        def cells(r: dict[str, Any] | None) -> str:
            if not r:
                return "– | – | – | –"
            return f"{r['req_per_s']:,.0f} | {r.get('p50_ms', '–')} | {r.get('p99_ms', '–')} | {cpu_cell(r)}"

        lines.append(f"| {c} | {cells(g)} | {cells(s)} | {ratio} |")
    non2xx = sum(r["non_2xx"] for r in runs)
    lines += ["", f"Non-2xx responses over all runs: {non2xx}."]
    for batch in sorted({r["max_batch"] for r in runs}, reverse=True):
        check = next(r["store_check"] for r in runs if r["max_batch"] == batch)
        lines.append(
            f"Batch {batch}: {check['orders_in_store']:,} orders in the store after SIGTERM, "
            f"{check['journal_mismatches']} stock rows where Σ movements ≠ level; writer: {check['writer']}."
        )
    write_results(out, meta, runs, lines)


if __name__ == "__main__":
    main()
