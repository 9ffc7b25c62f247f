"""The real `emporium` CLI as subprocesses: operator commands over HTTP, offline admin commands on files.

Operator commands talk to the shared live server with an operator key
(EMPORIUM_API_URL / EMPORIUM_API_KEY); offline commands run on fresh tmp
dirs, and once against the live server's data dir, which its lock must refuse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, guest_order_body
from tests.e2e.live import ok as _ok
from transactional.bootstrap import open_runtime
from transactional.config import Settings

EMPORIUM = str(Path(sys.executable).with_name("emporium"))
STOCK = 10
# Each CLI run is a new interpreter; with PYTHONDONTWRITEBYTECODE set (as in CI images) every run
# recompiles pandas, pydantic & co. from source. Cache their bytecode outside the source tree instead.
BYTECODE = {
    "PYTHONDONTWRITEBYTECODE": "",
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "emporium-e2e-pycache"),
}


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPORIUM_")}
    # Wide, plain output so tables are not truncated and carry no colour codes.
    env.update({"COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb", **BYTECODE})
    return env


def run(args: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EMPORIUM, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def run_many(
    commands: Sequence[tuple[Sequence[str], dict[str, str]]], cwd: Path
) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once (each CLI start costs about a second)."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda c: run(c[0], c[1], cwd), commands))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result.stdout


def failed(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    assert result.returncode != 0, f"expected a failure\nstdout: {result.stdout}\nstderr: {result.stderr}"
    for phrase in phrases:
        assert phrase in result.stderr, f"{phrase!r} not in stderr: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return result.stderr


@dataclass(frozen=True)
class World:
    sku_id: str
    east: str
    customer_id: str
    shown_order: str
    cancel_order: str


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-cwd")


@pytest.fixture(scope="module")
def op_env(live: LiveServer, keys: dict[str, str]) -> dict[str, str]:
    return {**_base_env(), "EMPORIUM_API_URL": live.url, "EMPORIUM_API_KEY": keys["operator"]}


@pytest.fixture(scope="module")
def world(admin_m: httpx.Client) -> World:
    """A SKU of this module's own, low on stock (so it has an open alert), and two orders of one customer."""
    tag = uuid.uuid4().hex[:8]
    east = {w["code"]: w["warehouse_id"] for w in _ok(admin_m.get("/api/v1/warehouses"))["items"]}["EAST"]
    category = _ok(admin_m.post("/api/v1/categories", json={"name": f"CLI {tag}"}), 201)
    product = _ok(
        admin_m.post(
            "/api/v1/products",
            json={
                "name": f"CLI widget {tag}",
                "category_id": category["category_id"],
                "tax_class": "standard",
            },
        ),
        201,
    )
    sku = _ok(
        admin_m.post(
            f"/api/v1/products/{product['product_id']}/skus",
            json={
                "sku_code": f"CLI-{tag}",
                "name": "CLI widget",
                "unit_cost_minor": 500,
                "price_minor": 1500,
            },
        ),
        201,
    )
    sku_id = sku["sku_id"]
    _ok(
        admin_m.post(
            f"/api/v1/stock/{sku_id}/{east}/adjustments",
            json={"delta": STOCK, "reason": "test_cli opening stock"},
        ),
        201,
    )
    _ok(
        admin_m.put(
            f"/api/v1/stock/{sku_id}/{east}/reorder-point", json={"reorder_point": 50, "reorder_quantity": 60}
        )
    )
    customer = _ok(
        admin_m.post(
            "/api/v1/customers", json={"email": f"cli-{tag}@example.com", "name": "Cleo Cli", "region": "NY"}
        ),
        201,
    )
    orders = []
    for quantity in (1, 2):
        body = guest_order_body(sku_id, quantity)
        del body["guest_email"]
        body["customer_id"] = customer["customer_id"]
        orders.append(_ok(admin_m.post("/api/v1/orders", json=body), 201)["order_id"])
    return World(sku_id, east, customer["customer_id"], orders[0], orders[1])


def level(admin: httpx.Client, world: World) -> dict[str, Any]:
    items = _ok(admin.get("/api/v1/stock", params={"sku_id": world.sku_id, "warehouse_id": world.east}))[
        "items"
    ]
    assert len(items) == 1
    return items[0]  # type: ignore[no-any-return]


# -- operator commands over HTTP ------------------------------------------------------------


def test_orders_list(op_env: dict[str, str], workdir: Path, world: World) -> None:
    table, as_json = run_many(
        [
            (["orders", "list", "--customer", world.customer_id], op_env),
            (["orders", "list", "--customer", world.customer_id, "--json"], op_env),
        ],
        workdir,
    )
    out = ok(table)
    assert "order_id" in out and "status" in out
    assert world.shown_order in out and world.cancel_order in out
    listed = json.loads(ok(as_json))["items"]
    assert {o["order_id"] for o in listed} == {world.shown_order, world.cancel_order}
    assert {o["customer_id"] for o in listed} == {world.customer_id}


def test_orders_show(op_env: dict[str, str], workdir: Path, world: World) -> None:
    shown = json.loads(ok(run(["orders", "show", world.shown_order], op_env, workdir)))
    assert shown["order_id"] == world.shown_order
    assert shown["customer_id"] == world.customer_id
    assert [(ln["sku_id"], ln["quantity"]) for ln in shown["lines"]] == [(world.sku_id, 1)]
    assert [h["to_status"] for h in shown["status_history"]] == ["pending_payment"]


def test_orders_cancel(op_env: dict[str, str], workdir: Path, world: World, admin_m: httpx.Client) -> None:
    reserved_before = level(admin_m, world)["reserved"]
    out = ok(run(["orders", "cancel", world.cancel_order, "--reason", "customer called"], op_env, workdir))
    assert f"{world.cancel_order} is now cancelled" in out

    order = _ok(admin_m.get(f"/api/v1/orders/{world.cancel_order}"))
    assert order["status"] == "cancelled"
    assert order["status_history"][-1]["reason"] == "customer called"
    assert order["status_history"][-1]["actor_role"] == "operator"
    assert level(admin_m, world)["reserved"] == reserved_before - 2


def test_stock_show(op_env: dict[str, str], workdir: Path, world: World, admin_m: httpx.Client) -> None:
    table, as_json = run_many(
        [
            (["stock", "show", "--sku", world.sku_id], op_env),
            (["stock", "show", "--sku", world.sku_id, "--json"], op_env),
        ],
        workdir,
    )
    out = ok(table)
    assert world.sku_id in out and "available" in out
    shown = json.loads(ok(as_json))["items"]
    expected = _ok(admin_m.get("/api/v1/stock", params={"sku_id": world.sku_id}))["items"]
    assert [(s["warehouse_id"], s["on_hand"], s["reserved"], s["available"]) for s in shown] == [
        (s["warehouse_id"], s["on_hand"], s["reserved"], s["available"]) for s in expected
    ]


def test_stock_adjust(op_env: dict[str, str], workdir: Path, world: World, admin_m: httpx.Client) -> None:
    before = level(admin_m, world)
    reason = f"cycle count {uuid.uuid4().hex[:6]}"
    out = ok(run(["stock", "adjust", world.sku_id, world.east, "5", "--reason", reason], op_env, workdir))
    printed = json.loads(out)
    assert printed["on_hand"] == before["on_hand"] + 5
    after = level(admin_m, world)
    assert (after["on_hand"], after["reserved"]) == (before["on_hand"] + 5, before["reserved"])
    moves = _ok(admin_m.get("/api/v1/stock/movements", params={"sku_id": world.sku_id, "limit": 200}))[
        "items"
    ]
    assert [(m["kind"], m["on_hand_delta"], m["reason"]) for m in moves][-1] == ("adjustment", 5, reason)


def test_alerts_list(op_env: dict[str, str], workdir: Path, world: World, admin_m: httpx.Client) -> None:
    open_alerts = _ok(admin_m.get("/api/v1/alerts", params={"status": "open", "sku_id": world.sku_id}))[
        "items"
    ]
    assert len(open_alerts) == 1, open_alerts
    table, as_json = run_many([(["alerts", "list"], op_env), (["alerts", "list", "--json"], op_env)], workdir)
    assert open_alerts[0]["alert_id"] in ok(table)
    listed = json.loads(ok(as_json))["items"]
    mine = [a for a in listed if a["sku_id"] == world.sku_id]
    assert [(a["alert_id"], a["status"], a["reorder_point"]) for a in mine] == [
        (open_alerts[0]["alert_id"], "open", 50)
    ]


def test_operator_errors_exit_non_zero_with_the_problem_detail(
    op_env: dict[str, str], workdir: Path, world: World, keys: dict[str, str], admin_m: httpx.Client
) -> None:
    before = level(admin_m, world)
    finance_env = {**op_env, "EMPORIUM_API_KEY": keys["finance"]}
    no_key_env = {k: v for k, v in op_env.items() if k != "EMPORIUM_API_KEY"}
    down_env = {**op_env, "EMPORIUM_API_URL": f"http://127.0.0.1:{free_port()}"}
    unknown, forbidden, below, no_key, down = run_many(
        [
            (["orders", "cancel", "ord_zzz_missing", "--reason", "typo"], op_env),
            (["stock", "adjust", world.sku_id, world.east, "5", "--reason", "not mine to do"], finance_env),
            (["stock", "adjust", "--reason", "lost", "--", world.sku_id, world.east, "-1000"], op_env),
            (["orders", "list"], no_key_env),
            (["alerts", "list"], down_env),
        ],
        workdir,
    )
    failed(unknown, "order ord_zzz_missing does not exist", "order_not_found", "HTTP 404")
    failed(forbidden, "role finance may not call stock.adjust", "role_forbidden", "HTTP 403")
    failed(below, "adjustment_below_reserved", "HTTP 409")
    failed(no_key, "no API key")
    failed(down, "cannot reach the Emporium server")
    after = level(admin_m, world)
    assert (after["on_hand"], after["reserved"]) == (before["on_hand"], before["reserved"])


# -- offline admin commands ------------------------------------------------------------------


def _all_keys(admin: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        page = _ok(admin.get("/api/v1/keys", params={"limit": 200, **({"after": after} if after else {})}))
        items += page["items"]
        after = page.get("next_after")
        if not after:
            return items


def test_offline_command_is_refused_while_the_server_runs(
    live: LiveServer, workdir: Path, admin_m: httpx.Client
) -> None:
    keys_before = _all_keys(admin_m)
    lock_before = (live.data_dir / "store.lock").read_text()
    result = run(
        ["keys", "create", "--role", "admin", "--data-dir", str(live.data_dir)], _base_env(), workdir
    )
    failed(result, "is in use by emporium serve", "stop it first")
    assert "secret" not in result.stdout
    assert _all_keys(admin_m) == keys_before
    # The server still holds its lock and keeps working.
    assert (live.data_dir / "store.lock").read_text() == lock_before
    assert httpx.get(f"{live.url}/ready").status_code == 200
    assert admin_m.get("/api/v1/store").status_code == 200


def test_init_keys_create_migrate_on_a_fresh_dir(tmp_path: Path, workdir: Path) -> None:
    env = _base_env()
    data = tmp_path / "store"
    init = ["init", "--name", "Tokyo Shop", "--currency", "jpy", "--timezone", "Asia/Tokyo"]
    init += ["--tax-mode", "inclusive", "--data-dir", str(data)]

    store = json.loads(ok(run(init, env, workdir)))
    assert (store["currency"], store["currency_exponent"]) == ("JPY", 0)
    assert (store["timezone"], store["tax_mode"], store["name"]) == ("Asia/Tokyo", "inclusive", "Tokyo Shop")

    created = json.loads(
        ok(run(["keys", "create", "--role", "admin", "--name", "ops", "--data-dir", str(data)], env, workdir))
    )
    assert created["role"] == "admin" and created["name"] == "ops"
    secret = created["secret"]
    assert secret.startswith("emp_ad_") and created["display_prefix"] == secret[:12]

    again = run([*init[:-2], "--data-dir", str(data)], env, workdir)
    failed(again, "already holds a store", "store_exists")
    migrated = ok(run(["migrate", "--data-dir", str(data)], env, workdir))
    assert "schema at" in migrated

    # The second init changed nothing, and the key made offline works against a server on the store.
    server = LiveServer(data, free_port(), env=dict(BYTECODE)).start()
    try:
        with server.client(secret) as client:
            got = _ok(client.get("/api/v1/store"))
            assert (got["name"], got["currency"], got["tax_mode"]) == ("Tokyo Shop", "JPY", "inclusive")
            assert [k["key_id"] for k in _ok(client.get("/api/v1/keys"))["items"]] == [created["key_id"]]
    finally:
        assert server.terminate() == 0


def test_serve_without_a_store_fails_fast(tmp_path: Path, workdir: Path) -> None:
    result = run(["serve", "--port", str(free_port()), "--data-dir", str(tmp_path)], _base_env(), workdir)
    failed(result, "no store in", "emporium init")


def test_init_rejects_bad_settings_and_creates_no_store(tmp_path: Path, workdir: Path) -> None:
    env = _base_env()
    cases = {
        "currency": (
            ["--currency", "XXQ", "--timezone", "UTC"],
            ["unknown currency 'XXQ'", "unknown_currency"],
        ),
        "timezone": (
            ["--currency", "EUR", "--timezone", "Mars/Olympus"],
            ["unknown IANA timezone", "invalid_timezone"],
        ),
        "tax_mode": (
            ["--currency", "EUR", "--timezone", "UTC", "--tax-mode", "both"],
            ["invalid tax_mode 'both'", "invalid_tax_mode"],
        ),
    }
    commands = [
        (["init", "--name", "Bad", *args, "--data-dir", str(tmp_path / name)], env)
        for name, (args, _) in cases.items()
    ]
    for (name, (_, phrases)), result in zip(cases.items(), run_many(commands, workdir), strict=True):
        failed(result, *phrases)
        runtime = open_runtime(Settings(data_dir=tmp_path / name), holder="test_cli check")
        try:
            assert not runtime.writer.state.tables["store"].rows, f"a failed init ({name}) left a store"
        finally:
            runtime.close()


def test_keys_create_refuses_a_dir_without_a_store(tmp_path: Path, workdir: Path) -> None:
    result = run(
        ["keys", "create", "--role", "admin", "--data-dir", str(tmp_path / "empty")], _base_env(), workdir
    )
    failed(result, "no store in", "emporium init")


def test_ledger_balances(op_env: dict[str, str], workdir: Path, keys: dict[str, str]) -> None:
    finance_env = {**op_env, "EMPORIUM_API_KEY": keys["finance"]}
    table, as_json, future, forbidden = run_many(
        [
            (["ledger", "balances"], finance_env),
            (["ledger", "balances", "--json"], finance_env),
            (["ledger", "balances", "--day-from", "2999-01-01", "--json"], finance_env),
            (["ledger", "balances"], op_env),
        ],
        workdir,
    )
    assert "account" in ok(table) and "balance_minor" in ok(table)
    body = json.loads(ok(as_json))
    assert sum(body["totals"].values()) == 0
    assert all(item["debit_minor"] - item["credit_minor"] == item["balance_minor"] for item in body["items"])
    assert json.loads(ok(future))["items"] == []
    failed(forbidden, "role operator may not call ledger.balances", "role_forbidden", "HTTP 403")


def test_demo_build_and_lake_snapshot_refuse_bad_input_and_change_nothing(
    live: LiveServer, tmp_path: Path, workdir: Path
) -> None:
    env = _base_env()
    fresh = tmp_path / "fresh"
    bad_date, on_a_store, lake_while_serving = run_many(
        [
            (["demo", "build", "--data-dir", str(fresh), "--end-date", "2026-13-01"], env),
            (["demo", "build", "--data-dir", str(live.data_dir), "--days", "2"], env),
            (["lake", "snapshot", "--data-dir", str(live.data_dir)], env),
        ],
        workdir,
    )
    failed(bad_date, "--end-date must be YYYY-MM-DD")
    assert not (fresh / "store.duckdb").exists()
    # The live server's store: its lock refuses both, and nothing lands beside it.
    failed(on_a_store, "is in use by emporium serve")
    failed(lake_while_serving, "is in use by emporium serve")
    assert not (live.data_dir / "ground_truth.json").exists()
    assert httpx.get(f"{live.url}/ready").status_code == 200
