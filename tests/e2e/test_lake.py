"""Lake snapshots through the live server while orders keep coming: no write fails, the snapshot is consistent."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import duckdb
import httpx

from tests.e2e.live import LiveServer, guest_order_body, ok, stocked_sku

CARD = {"method": "card", "token": "tok_sandbox_ok", "card_brand": "visa", "card_last4": "4242"}


def _files(lake_dir: Path, manifest: dict[str, Any], table: str) -> str:
    entry = manifest["tables"][table]
    paths = [entry["file"]] if entry["kind"] == "snapshot" else [f["path"] for f in entry["files"]]
    return "[" + ", ".join(f"'{lake_dir / p}'" for p in paths) + "]"


def test_snapshot_while_orders_are_placed(
    live: LiveServer, keys: dict[str, str], admin: httpx.Client
) -> None:
    sku_id, _ = stocked_sku(admin, "lake", stock=10_000)
    stop = threading.Event()
    failures: list[str] = []
    placed: list[str] = []

    def shopper() -> None:
        with live.client(keys["storefront"]) as client:
            while not stop.is_set():
                order = client.post("/api/v1/orders", json=guest_order_body(sku_id, 1))
                if order.status_code != 201:
                    failures.append(order.text)
                    continue
                body = order.json()
                paid = client.post(
                    f"/api/v1/orders/{body['order_id']}/payments",
                    json=CARD,
                    headers={"X-Order-Token": body["access_token"]},
                )
                if paid.status_code != 201:
                    failures.append(paid.text)
                placed.append(body["order_id"])

    threads = [threading.Thread(target=shopper) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        with live.client(keys["pipeline"]) as pipeline:
            first = ok(pipeline.post("/api/v1/lake/snapshots"), 201)
            second = ok(pipeline.post("/api/v1/lake/snapshots"), 201)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert failures == []
    assert len(placed) > 0
    assert second["commit_seq"] >= first["commit_seq"]
    assert second["previous_snapshot_id"] == first["snapshot_id"]
    assert "files" not in second["tables"]["ledger_lines"]
    lake_dir = Path(second["lake_dir"])
    assert lake_dir == live.data_dir / "lake"
    manifest = json.loads((lake_dir / "_manifest.json").read_text())
    assert manifest["snapshot_id"] == second["snapshot_id"]

    con = duckdb.connect()
    orders = f"read_parquet({_files(lake_dir, manifest, 'orders')})"
    lines = f"read_parquet({_files(lake_dir, manifest, 'order_lines')}, union_by_name = true)"
    ledger = f"read_parquet({_files(lake_dir, manifest, 'ledger_lines')}, union_by_name = true)"
    orphans = con.execute(f"select count(*) from {lines} l anti join {orders} o using (order_id)").fetchone()
    assert orphans == (0,)
    in_lake = {r[0] for r in con.execute(f"select order_id from {orders}").fetchall()}
    assert in_lake  # orders placed after the snapshot are simply not in it yet
    unbalanced = con.execute(
        f"select posting_id from {ledger} group by posting_id having sum(debit_minor) <> sum(credit_minor)"
    ).fetchall()
    assert unbalanced == []
    # Nothing in the lake is newer than the commit the manifest is consistent at.
    newest = con.execute(f"select max(commit_seq) from {orders}").fetchone()
    assert newest is not None and newest[0] <= manifest["commit_seq"]


def test_storefront_may_not_snapshot(live: LiveServer, keys: dict[str, str]) -> None:
    with live.client(keys["storefront"]) as storefront:
        response = storefront.post("/api/v1/lake/snapshots")
    assert response.status_code == 403
    assert response.json()["code"] == "role_forbidden"
