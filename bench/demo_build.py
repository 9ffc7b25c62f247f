"""Benchmark: how long `emporium demo build` takes, and how many records per second it makes.

Builds into a temporary directory with the given scale and period, counts the
rows of every table afterwards, and appends the result to
bench/results/demo_build.{json,md} (one entry per scale × period, newest wins).

    python -m bench.demo_build [--scale 1] [--months 6] [--days N] [--end-date 2026-11-24]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from transactional.demo.build import BuildOptions, build_demo
from transactional.storage.database import STORE_FILE

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 11, 24))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        options = BuildOptions(
            Path(tmp),
            months=args.months,
            days=args.days,
            end_date=args.end_date,
            seed=args.seed,
            scale=args.scale,
        )
        summary = build_demo(options)
        con = duckdb.connect(str(Path(tmp) / STORE_FILE), read_only=True)
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        rows = {t: int(con.execute(f"select count(*) from {t}").fetchone()[0]) for t in tables}  # type: ignore[index]
        size = (Path(tmp) / STORE_FILE).stat().st_size
        con.close()
    records = sum(rows.values())
    entry: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "scale": args.scale,
        "period": f"{summary.start} .. {summary.end} ({summary.days} days)",
        "seconds": round(summary.seconds, 1),
        "records": records,
        "records_per_second": round(records / summary.seconds),
        "commands": summary.commands,
        "orders_paid": summary.totals["orders_paid"],
        "sessions": summary.totals["sessions"],
        "events": summary.events,
        "customers": summary.customers,
        "store_bytes": size,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "demo_build.json"
    entries = json.loads(path.read_text()) if path.exists() else []
    entries = [e for e in entries if (e["scale"], e["period"]) != (entry["scale"], entry["period"])] + [entry]
    path.write_text(json.dumps(entries, indent=1))
    lines = [
        "Demo build (`python -m bench.demo_build`), one build per row; records = rows in every table afterwards.",
        "",
        "| scale | period | time | records | records/s | orders paid | sessions | events | customers | load avg before → after | when |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['scale']} | {e['period']} | {e['seconds']:.0f} s | {e['records']:,} | {e['records_per_second']:,} "
            f"| {e['orders_paid']:,} | {e['sessions']:,} | {e['events']:,} | {e['customers']:,} "
            f"| {e['load_average_before'][0]:.1f} → {e['load_average_after'][0]:.1f} | {e['at']} |"
        )
    (RESULTS / "demo_build.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
