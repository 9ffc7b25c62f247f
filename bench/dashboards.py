"""Benchmark: how fast the dashboards load and answer a filter change, in Chromium, on a given marts file.

Starts ``streamlit run dashboards/app.py`` on the file (its own process group),
then for every page:

- first load: a fresh browser context (a new Streamlit session) opens the
  page's URL; timed from navigation until the app's end-of-run mark is in
  the DOM and every visible chart is drawn. The first load ever of a page
  also fills the server's query cache for it (reported apart as ``cold``);
- filter change: the region filter set to a value not chosen before (so its
  queries miss the cache), timed from the click until the rerun is drawn.

p50/p95 over ``--loads`` repetitions; the server's own script time is read
from the end-of-run mark. Writes bench/results/dashboards.{json,md}.

    python -m bench.dashboards --marts data/marts.duckdb [--loads 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.harness import RESULTS, load_average, machine, now_iso, write_results
from tests.e2e.dashboards.app_server import PAGES, chromium, last_run, serve, wait_rendered

TARGET_FIRST_LOAD_S = 2.5
TARGET_FILTER_S = 1.0
VIEWPORT = {"width": 1440, "height": 900}


def _p(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _server_seconds(page: Any) -> float:
    return float(page.locator(".emporium-done").last.get_attribute("data-seconds") or "nan")


def _regions(marts: Path) -> list[str]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        rows = con.execute(
            "select ship_region from fct_order_lines where ship_region is not null group by 1 order by count(*) desc"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def _first_load(browser: Any, url: str) -> tuple[float, float]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    wait_rendered(page, polling="raf")
    elapsed = time.perf_counter() - started
    server = _server_seconds(page)
    context.close()
    return elapsed, server


def _filter_changes(browser: Any, url: str, regions: list[str], n: int) -> list[tuple[float, float]]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    wait_rendered(page)
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Region")
    out = []
    for region in regions[:n]:
        run = last_run(page)
        box.locator("input").click()
        page.keyboard.type(region)  # the list is virtualized: narrow it so the option is drawn
        option = page.get_by_role("option", name=region, exact=True)
        option.wait_for()
        started = time.perf_counter()
        option.click()
        wait_rendered(page, after=run, polling="raf")
        out.append((time.perf_counter() - started, _server_seconds(page)))
        page.keyboard.press("Escape")
        run = last_run(page)
        box.locator("input").click()
        page.keyboard.press("Backspace")  # back to no region, for the next value
        page.keyboard.press("Escape")
        wait_rendered(page, after=run)
    context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--marts", type=Path, required=True, help="a published marts file")
    parser.add_argument("--loads", type=int, default=10, help="repetitions per page and measure")
    parser.add_argument("--out", type=Path, default=RESULTS / "dashboards")
    args = parser.parse_args()
    marts = args.marts.resolve()
    regions = _regions(marts)
    load_before = load_average()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, serve(marts, Path(tmp)) as app, chromium() as browser:
        started = time.perf_counter()
        _first_load(browser, f"{app.url}/")  # the server imports and opens everything once
        warmup = time.perf_counter() - started
        for name, path in PAGES.items():
            url = f"{app.url}/{path}"
            cold, cold_server = _first_load(browser, url)
            loads = [_first_load(browser, url) for _ in range(args.loads)]
            changes = _filter_changes(browser, url, regions, min(args.loads, len(regions)))
            runs.append(
                {
                    "page": name,
                    "cold_first_load_s": round(cold, 3),
                    "cold_server_s": round(cold_server, 3),
                    "first_load_s": [round(x, 3) for x, _ in loads],
                    "first_load_server_s": [round(s, 3) for _, s in loads],
                    "filter_change_s": [round(x, 3) for x, _ in changes],
                    "filter_change_server_s": [round(s, 3) for _, s in changes],
                }
            )
    meta = {
        "at": now_iso(),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "marts": str(marts),
        "marts_bytes": marts.stat().st_size,
        "loads": args.loads,
        "server_warmup_s": round(warmup, 3),
        "targets": {"first_load_p95_s": TARGET_FIRST_LOAD_S, "filter_change_p95_s": TARGET_FILTER_S},
    }
    md = [
        f"Dashboards in Chromium (`python -m bench.dashboards --marts {args.marts}`), {meta['at']}, {meta['machine']}, "
        f"marts file {meta['marts_bytes'] / 1e6:.1f} MB, load average {load_before} → {meta['load_average_after']}.",
        "",
        f"First load = a new session opens the page, until its last element and every visible chart are drawn "
        f"(target p95 < {TARGET_FIRST_LOAD_S} s); cold = the page's first load ever (its queries not cached yet). "
        f"Filter change = a region not chosen before, until the rerun is drawn (target p95 < {TARGET_FILTER_S} s). "
        f"{args.loads} repetitions each; server = the script's own run time. The server's very first load "
        f"(imports, first open) took {warmup:.2f} s.",
        "",
        "| page | cold first load | first load p50 | first load p95 | server p95 | filter change p50 | filter change p95 | server p95 | within targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        fl, fc = r["first_load_s"], r["filter_change_s"]
        ok = _p(fl, 95) < TARGET_FIRST_LOAD_S and (not fc or _p(fc, 95) < TARGET_FILTER_S)
        md.append(
            f"| {r['page']} | {r['cold_first_load_s']:.2f} s | {_p(fl, 50):.2f} s | {_p(fl, 95):.2f} s | "
            f"{_p(r['first_load_server_s'], 95):.2f} s | {_p(fc, 50):.2f} s | {_p(fc, 95):.2f} s | "
            f"{_p(r['filter_change_server_s'], 95):.2f} s | {'yes' if ok else 'NO'} |"
        )
    write_results(args.out, meta, runs, md)


if __name__ == "__main__":
    main()
