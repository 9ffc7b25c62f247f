"""The HTTP benchmark harness shared by bench/order_placement.py and bench/payments_and_events.py.

- ``build_store``: the demo seed plus 200 SKUs with effectively unlimited stock;
- ``serve``: a real ``emporium serve`` on that store (tests/e2e/live.py);
- ``run_wrk``: one wrk run of a Lua script at C connections for N seconds,
  parsed (requests/s, latency percentiles, non-2xx, socket errors, whatever
  the script's ``done()`` prints as ``bench <name> <number>``), with the CPU
  time that wrk, the server and everything else used during the run; each
  run starts once the server is idle again (``wait_idle``);
- ``run_cell``: repeats of one run, the median one reported with every run's
  figures beside it;
- ``check_store``, ``writer_summary``, ``machine``, ``write_json``: what the
  result files need.

CPU shares are CPU time over the run's wall time × cores, so the three shares
and the idle share add up to 100 %: wrk's from its own rusage (``wait4``), the
server's from /proc/<pid>/stat (utime + stime of every process in its process
group) before and after, the machine's from /proc/stat.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
CORES = os.cpu_count() or 1
_TICK = os.sysconf("SC_CLK_TCK")


# -- the store and the server ----------------------------------------------------------


def build_store(data_dir: Path) -> tuple[dict[str, str], list[str]]:
    """The demo seed plus 200 SKUs with effectively unlimited stock in both warehouses.

    Returns the seed's API keys by role and the bench SKU ids.
    """
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
        return keys, skus
    finally:
        runtime.close()


def write_lua_list(path: Path, values: list[str]) -> Path:
    """A Lua file returning the list of strings, for a wrk script's ``dofile``."""
    path.write_text("return {" + ",".join(f'"{v}"' for v in values) + "}\n")
    return path


@contextmanager
def serve(data_dir: Path, max_batch: int = 256) -> Iterator[LiveServer]:
    """``emporium serve`` on ``data_dir`` (INFO logs, for the writer's statistics); SIGTERM at the end,
    after which ``server.proc.returncode`` is its exit code."""
    server = LiveServer(
        data_dir, free_port(), env={"EMPORIUM_MAX_BATCH": str(max_batch), "EMPORIUM_LOG_LEVEL": "INFO"}
    ).start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.terminate()


def writer_summary(server: LiveServer) -> str:
    """The writer's statistics line from the server's log (logged when it stops)."""
    return next(
        (
            line.split('"msg":"writer stopped: ')[1].split('"')[0]
            for line in server.log().splitlines()
            if "writer stopped" in line
        ),
        "no statistics logged",
    )


def query_store(data_dir: Path, queries: dict[str, str]) -> dict[str, Any]:
    """One scalar per query, read from the stopped server's store file."""
    con = duckdb.connect(str(data_dir / "store.duckdb"), read_only=True)
    try:
        return {name: con.execute(sql).fetchone()[0] for name, sql in queries.items()}  # type: ignore[index]
    finally:
        con.close()


STOCK_MISMATCHES = (
    "select count(*) from stock_levels l left join (select sku_id, warehouse_id, sum(on_hand_delta) oh, "
    "sum(reserved_delta) rs from stock_movements group by all) m using (sku_id, warehouse_id) "
    "where l.on_hand <> coalesce(m.oh, 0) or l.reserved <> coalesce(m.rs, 0)"
)


def check_store(data_dir: Path) -> dict[str, Any]:
    """Orders in the store, and stock rows where Σ movements ≠ level (must be 0)."""
    return query_store(
        data_dir,
        {"orders_in_store": "select count(*) from orders", "journal_mismatches": STOCK_MISMATCHES},
    )


# -- CPU accounting -------------------------------------------------------------------------


def _group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in process group ``pgid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:  # field 5: pgrp
            total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / _TICK


def wait_idle(pid: int, *, below: float = 0.15, window: float = 0.5, timeout: float = 60) -> float:
    """Wait until the server (process group ``pid``) uses less than ``below`` of a core over ``window``
    seconds: requests still in flight when the previous wrk run ended are done. Returns the wait."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = _group_cpu_seconds(pid)
        time.sleep(window)
        if (_group_cpu_seconds(pid) - before) / window < below:
            break
    return time.monotonic() - started


def _machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which user already counts
    return (total - idle) / _TICK, total / _TICK


# -- wrk -------------------------------------------------------------------------------------

_LAT = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_SCRIPT_FIGURE = re.compile(r"^bench (\w+) (-?[\d.]+)\s*$", re.M)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (make bench does it)")


def run_wrk(
    url: str,
    script: Path,
    connections: int,
    duration: int,
    env: dict[str, str],
    *,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """One wrk run; figures as wrk reports them plus CPU shares (percent of the machine) and the
    script's own ``bench <name> <number>`` lines under ``script``. The script finds wrk's thread
    count in EMPORIUM_BENCH_THREADS. With ``server_pid`` the run starts once the server is idle
    (``wait_idle``), so what the previous run left in flight does not count against this one."""
    threads = 1 if connections < 8 else 2
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    cmd += ["-s", str(script), url]
    drained = wait_idle(server_pid) if server_pid else 0.0
    server_before = _group_cpu_seconds(server_pid) if server_pid else 0.0
    busy_before, total_before = _machine_cpu_seconds()
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env, "EMPORIUM_BENCH_THREADS": str(threads)},
        text=True,
    )
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    busy_after, total_after = _machine_cpu_seconds()
    server_after = _group_cpu_seconds(server_pid) if server_pid else 0.0
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out, err)

    capacity = (total_after - total_before) or wall * CORES
    wrk_cpu = usage.ru_utime + usage.ru_stime
    server_cpu = server_after - server_before
    busy = busy_after - busy_before
    cpu = {
        "wrk_cpu_pct": round(100 * wrk_cpu / capacity, 1),
        "server_cpu_pct": round(100 * server_cpu / capacity, 1) if server_pid else None,
        "other_cpu_pct": round(100 * max(busy - wrk_cpu - server_cpu, 0) / capacity, 1),
        "idle_cpu_pct": round(100 * (1 - busy / capacity), 1),
    }
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {f"p{p}_ms": round(float(v) * scale[u], 2) for p, v, u in _LAT.findall(out)}
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    assert done is not None, out
    elapsed = float(done.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[done.group(3)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    result: dict[str, Any] = {
        "connections": connections,
        "requests": int(done.group(1)),
        "elapsed_s": round(elapsed, 2),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        **latency,
        **cpu,
        "waited_for_idle_server_s": round(drained, 1),
    }
    figures = {name: float(value) for name, value in _SCRIPT_FIGURE.findall(out)}
    if figures:
        result["script"] = figures
    return result


PER_RUN = frozenset(
    {"req_per_s", "p50_ms", "p99_ms", "non_2xx", "wrk_cpu_pct", "server_cpu_pct", "other_cpu_pct", "script"}
)


def run_cell(
    url: str,
    script: Path,
    connections: int,
    duration: int,
    env: dict[str, str] | Callable[[], dict[str, str]],
    *,
    repeats: int,
    server_pid: int | None = None,
    after_each: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """``repeats`` runs of one cell: the median run (by requests/s) with ``req_per_s_all``, the
    non-2xx summed over all runs, and every run's main figures (and any ``*_per_s`` that
    ``after_each`` added) under ``runs``.

    ``env`` may be a function, called before each run (a script that must not reuse ids);
    ``after_each`` sees each run's result (to move such a script's offset on).
    """
    tries = []
    for _ in range(repeats):
        run = run_wrk(
            url, script, connections, duration, env() if callable(env) else env, server_pid=server_pid
        )
        if after_each is not None:
            after_each(run)
        tries.append(run)
    median = sorted(tries, key=lambda r: r["req_per_s"])[len(tries) // 2]
    return {
        **median,
        "req_per_s_all": [r["req_per_s"] for r in tries],
        "non_2xx": sum(r["non_2xx"] for r in tries),
        "runs": [{k: v for k, v in r.items() if k in PER_RUN or k.endswith("_per_s")} for r in tries],
    }


def cpu_cell(r: dict[str, Any] | None) -> str:
    """``wrk % / server % / other %`` of a run (shares of the machine), for a Markdown table."""
    if not r or r.get("wrk_cpu_pct") is None:
        return "–"
    shares = [r.get("wrk_cpu_pct"), r.get("server_cpu_pct"), r.get("other_cpu_pct")]
    return " / ".join("–" if v is None else f"{v:.0f}" for v in shares)


# -- results -----------------------------------------------------------------------------------


def machine() -> str:
    return f"{platform.machine()}, {CORES} cores, Python {platform.python_version()}"


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    out = done.stdout + done.stderr
    match = re.search(r"wrk (?:\S*/)?(\d[\w.\-+]*)", out)
    return f"wrk {match.group(1)}" if match else "wrk"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_results(out: Path, meta: dict[str, Any], runs: list[dict[str, Any]], md: list[str]) -> None:
    """``out``.json (meta + runs) and ``out``.md (the lines given), and the Markdown printed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=2) + "\n")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
