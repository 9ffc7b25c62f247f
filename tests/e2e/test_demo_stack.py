"""Everything together, for real: `emporium demo up` on a copy of the shared demo store (issue 7).

The data dir holds only the store and its keys, so `demo up` materializes
every asset first, then serves the API, Dagster (webserver + daemon) and the
dashboards. While shoppers place and pay orders through the API, a run of
`refresh_all` is launched through the running Dagster's GraphQL API (so the
daemon's queue launches it) and every dashboard page is loaded in Chromium.
After the run: no shopper request failed, the snapshot went through the
server, the alerts reached it, and a reloaded dashboard shows the new orders
from the new publish without any restart. Then one Ctrl-C (SIGINT to `demo
up` alone) stops everything: exit 0, ports closed, no process left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest

from tests.e2e.dashboards.app_server import (
    CHROMIUM,
    PAGES,
    REPO,
    assert_no_errors,
    chromium,
    full_page_screenshot,
    wait_rendered,
)
from tests.e2e.live import EMPORIUM, LiveServer, free_port, ok, stocked_sku
from tests.e2e.test_pipeline_concurrency import Shoppers
from transactional.storage import lake
from transactional.storage.database import STORE_FILE

pytestmark = pytest.mark.slow
ARTIFACTS = REPO / "test-artifacts" / "stack"
VIEWPORT = {"width": 1440, "height": 900}
UP_TIMEOUT_S = 300
RUN_TIMEOUT_S = 300
SHOPPER_PAUSE_S = 0.05

LOCATIONS = """
query { repositoriesOrError { __typename
  ... on RepositoryConnection { nodes { name location { name } pipelines { name } } }
  ... on PythonError { message } } }
"""
LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) { __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message } } }
"""
RUN = """
query Run($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { status tags { key value }
               eventConnection(limit: 2000) { events { __typename ... on MessageEvent { message level } } } }
  ... on Error { message } } }
"""


class PacedShoppers(Shoppers):
    """The concurrency test's shoppers with a short pause per request: steady traffic, not a flood, so the
    run and the browser still get some of this 2-core machine's CPU (that test measures the flood)."""

    def _timed(self, call: Any) -> httpx.Response:
        time.sleep(SHOPPER_PAUSE_S)
        return super()._timed(call)


# --------------------------------------------------------------------------- processes


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every live process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":  # a zombie is gone already, only not reaped yet
            out[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return out


def _stack_sessions(root: int) -> set[int]:
    """The session ids of `demo up` and of every descendant: each service runs in a session of its own."""
    procs = _processes()
    sessions, frontier, seen = {root}, [root], {root}
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, sid) in procs.items():
            if ppid == parent and pid not in seen:
                seen.add(pid)
                sessions.add(sid)
                frontier.append(pid)
    return sessions


def _left_in(sessions: set[int]) -> list[str]:
    left = []
    for pid, (_, sid) in _processes().items():
        if sid in sessions:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
            except OSError:
                cmd = "?"
            left.append(f"{pid} (session {sid}): {cmd}")
    return left


def _kill_sessions(sessions: set[int]) -> None:
    for pid, (_, sid) in _processes().items():
        if sid in sessions:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_line(proc: subprocess.Popen[bytes], log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"demo up exited with {proc.returncode}:\n{log.read_text(errors='replace')[-6000:]}")
        time.sleep(0.5)
    pytest.fail(f"no {text!r} within {timeout:.0f} s:\n{log.read_text(errors='replace')[-6000:]}")


# --------------------------------------------------------------------------- Dagster's GraphQL API


def _graphql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    body = ok(response)
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def _launch_refresh_all(url: str) -> str:
    repos = _graphql(url, LOCATIONS)["repositoriesOrError"]
    assert repos["__typename"] == "RepositoryConnection", repos
    repo = next(r for r in repos["nodes"] if "refresh_all" in {p["name"] for p in r["pipelines"]})
    launched = _graphql(
        url,
        LAUNCH,
        executionParams={
            "selector": {
                "repositoryLocationName": repo["location"]["name"],
                "repositoryName": repo["name"],
                "jobName": "refresh_all",
            },
            "runConfigData": {},
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def _run(url: str, run_id: str) -> dict[str, Any]:
    run = _graphql(url, RUN, runId=run_id)["runOrError"]
    assert run["__typename"] == "Run", run
    return run  # type: ignore[no-any-return]


def _wait_run(url: str, run_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _run(url, run_id)
        if run["status"] in ("FAILURE", "CANCELED"):
            messages = [e.get("message", "") for e in run["eventConnection"]["events"]]
            pytest.fail(f"run {run_id} {run['status']}:\n" + "\n".join(messages)[-8000:])
        if run["status"] == "SUCCESS":
            return run
        time.sleep(2)
    pytest.fail(f"run {run_id} still {_run(url, run_id)['status']} after {timeout:.0f} s")


# --------------------------------------------------------------------------- dashboards


def _orders_tile(page: Any) -> int:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="Orders").first
    return int(tile.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def _shown_range(page: Any) -> tuple[date, date]:
    """The Overview's date range, read back from its caption "Change against A … B, the N days before"."""
    caption = page.get_by_text("Change against").inner_text()
    found = re.search(r"Change against (\d{4}-\d\d-\d\d) … (\d{4}-\d\d-\d\d), the (\d+) days", caption)
    assert found, caption
    start = date.fromisoformat(found[2]) + timedelta(days=1)
    return start, start + timedelta(days=int(found[3]) - 1)


def _check_page(page: Any, name: str, log: Path) -> None:
    assert_no_errors(page, log.read_text(errors="replace") if log.exists() else "")
    assert page.locator('[data-testid="stMetricValue"]').count() >= 3, name


def _paid_in_snapshot(lake_dir: Path, order_ids: list[str], since: str) -> tuple[int, int]:
    """(shoppers' orders paid in the lake's snapshot, all orders paid since ``since`` in it)."""
    manifest = lake.read_manifest(lake_dir)
    assert manifest is not None
    orders = lake_dir / manifest["tables"]["orders"]["file"]
    con = duckdb.connect()
    try:
        row = con.execute(
            f"select count(*) filter (where order_id in (select unnest(?::varchar[]))), "
            f"count(*) filter (where paid_at > ?::timestamptz) "
            f"from read_parquet('{orders}') where paid_at is not null",
            [order_ids, since],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1])


def _demo_orders_between(marts: Path, start: date, end: date) -> int:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        row = con.execute(
            "select count(distinct order_id) from fct_order_lines where sale_date between ? and ?",
            [start, end],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


# --------------------------------------------------------------------------- the test


@pytest.mark.timeout(900)  # includes building the shared demo when this test runs alone
def test_demo_up_serves_everything_and_one_ctrl_c_stops_it(built: Path, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    started = time.monotonic()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in (STORE_FILE, "demo-keys.json"):  # not the lake, warehouse or marts: `demo up` makes them
        shutil.copy(built / name, data_dir / name)
    keys = orjson.loads((data_dir / "demo-keys.json").read_bytes())
    api_port, dagster_port, dashboards_port = free_port(), free_port(), free_port()
    assert len({api_port, dagster_port, dashboards_port}) == 3
    api, dagster, dashboards = (f"http://127.0.0.1:{p}" for p in (api_port, dagster_port, dashboards_port))
    log = tmp_path / "demo-up.log"
    streamlit_log = data_dir / "logs" / "dashboards.log"
    env = {**os.environ, "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1", "COLUMNS": "200"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [EMPORIUM, "demo", "up", "--data-dir", str(data_dir), "--api-port", str(api_port),
             "--dagster-port", str(dagster_port), "--dashboards-port", str(dashboards_port)],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    sessions = {proc.pid}
    shoppers: PacedShoppers | None = None
    try:
        # 1–2. It materializes first, then everything answers.
        _wait_for_line(proc, log, "all up", UP_TIMEOUT_S)
        up_s = time.monotonic() - started
        sessions = _stack_sessions(proc.pid)
        assert len(sessions) >= 4, sessions  # demo up + API + Dagster + Streamlit, each its own session
        assert httpx.get(f"{api}/ready", timeout=10).status_code == 200
        assert httpx.get(f"{dagster}/server_info", timeout=10).status_code == 200
        assert httpx.get(f"{dashboards}/_stcore/health", timeout=10).status_code == 200
        assert (data_dir / "marts.duckdb").exists()
        first = lake.read_manifest(data_dir / "lake")
        assert first is not None

        with chromium() as browser:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{dashboards}/")
            first_publication = wait_rendered(page, timeout_ms=60_000)
            _check_page(page, "overview", streamlit_log)
            orders_before = _orders_tile(page)
            range_before = _shown_range(page)

            # 3. Shoppers on the API while the daemon runs `refresh_all` and the dashboards are browsed.
            server = LiveServer(data_dir, api_port)  # not started: only its client, on demo up's server
            with server.client(keys["admin"]) as admin:
                sku_id, _ = stocked_sku(admin, "stack", stock=1_000_000)
            shoppers = PacedShoppers(server, keys["storefront"], sku_id, threads=2)
            for t in shoppers.threads:
                t.start()
            time.sleep(3)  # some orders exist before the snapshot is taken
            run_started = time.monotonic()
            run_id = _launch_refresh_all(dagster)
            for name, path in PAGES.items():
                page.goto(f"{dashboards}/{path}")
                wait_rendered(page, timeout_ms=60_000)
                _check_page(page, name, streamlit_log)
            run = _wait_run(dagster, run_id, RUN_TIMEOUT_S)
            run_s = time.monotonic() - run_started
            shoppers.stop.set()
            for t in shoppers.threads:
                t.join(timeout=30)

            # 4. Nothing failed; the snapshot went through the server; the alerts reached it.
            assert shoppers.failures == [], shoppers.failures[:5]
            assert len(shoppers.orders) > 0
            manifest = lake.read_manifest(data_dir / "lake")
            assert manifest is not None and manifest["snapshot_id"] != first["snapshot_id"]
            assert manifest["commit_seq"] > first["commit_seq"]
            tags = {t["key"]: t["value"] for t in run["tags"]}
            assert tags.get("emporium/snapshot") in (None, manifest["snapshot_id"]), tags
            with server.client(keys["operator"]) as operator:
                alerts = ok(operator.get("/api/v1/alerts", params={"source": "pipeline", "limit": 10}))
            assert alerts["items"], "the alerts asset posted nothing to the server"
            marts = duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True)
            try:
                published = marts.execute("select snapshot_id from _publication").fetchone()
            finally:
                marts.close()
            assert published == (manifest["snapshot_id"],)
            shoppers_paid, new_paid = _paid_in_snapshot(
                data_dir / "lake", shoppers.orders, first["created_at"]
            )
            # Besides the shoppers' orders, the server's payment reconciliation receives the funds of the
            # demo's bank transfers still pending when it ended: those orders are paid today too.
            assert 0 < shoppers_paid <= new_paid

            # The same Streamlit process shows the new publish: a reload is a new session, new defaults.
            page.goto(f"{dashboards}/")
            assert wait_rendered(page, timeout_ms=60_000) != first_publication
            _check_page(page, "overview", streamlit_log)
            start, end = _shown_range(page)
            assert range_before[0] <= range_before[1] <= end  # the new orders are dated today, the last day
            # The demo's own orders still in the default window (all of them while the demo is recent).
            expected = _demo_orders_between(built / "marts.duckdb", start, end) + new_paid
            if start <= range_before[0]:
                assert expected == orders_before + new_paid
            assert _orders_tile(page) == expected, (start, end, orders_before, new_paid)
            for name, path in PAGES.items():
                page.goto(f"{dashboards}/{path}")
                wait_rendered(page, timeout_ms=60_000)
                _check_page(page, name, streamlit_log)
                full_page_screenshot(page, ARTIFACTS / f"{name}.png", VIEWPORT["width"], VIEWPORT["height"])
            page.close()

        # 5. Ctrl-C: SIGINT to `demo up` only (its children run in sessions of their own, as in a terminal).
        sessions |= _stack_sessions(proc.pid)
        stop_started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0, log.read_text(errors="replace")[-4000:]
        stop_s = time.monotonic() - stop_started
        for port in (api_port, dagster_port, dashboards_port):
            assert not _port_open(port), port
        deadline = time.monotonic() + 10  # a grandchild may take a moment to notice its parent went away
        while _left_in(sessions) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _left_in(sessions) == []
        print(f"\nup in {up_s:.0f} s, run {run_s:.0f} s ({len(shoppers.orders)} orders, {shoppers_paid} paid in "
              f"the snapshot, {new_paid} paid in all), stopped in {stop_s:.1f} s; total {time.monotonic() - started:.0f} s")  # fmt: skip
    finally:
        if shoppers is not None:
            shoppers.stop.set()
        if proc.poll() is None:
            sessions |= _stack_sessions(proc.pid)
        _kill_sessions(sessions)
        if proc.poll() is None:
            proc.wait(10)
