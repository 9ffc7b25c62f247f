"""Kill -9 under payment load, on a real server: no acknowledged capture or refund is missing from
the ledger after restart, the ledger still balances, and calls whose outcome is unknown are settled
by the reconciler.

Card payments are authorized ahead (sandbox tokens, providers/payments.py): most with
``tok_sandbox_ok``, some whose captures time out (``tok_sandbox_capture_timeout``) or whose
refunds do (``tok_sandbox_refund_timeout``), so some operations are committed ``unknown`` (answered
202) before the kill. 12 clients then capture (a third, then the rest) and refund (twice) each
payment, every request with its own Idempotency-Key, and the server is killed mid-load. Requests in
flight at the kill may leave an operation ``pending`` (the attempt committed, the provider's answer
never recorded).

After a restart the server marks every operation the dead process left ``pending`` as ``unknown``
(services/payments.py ``mark_orphaned_unknown``), and the reconciler (due loop ticking every
0.2 s, so it runs every second) must settle every open operation, each as the sandbox says it
really went. Finally the store file is checked
read-only: every acknowledged capture and refund succeeded and has its posting, every posting
balances, captured ≤ authorized and refunded ≤ captured per payment, and GET /ledger/balances
agrees with SQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, guest_order_body, ok, seed, stocked_sku
from transactional.providers.payments import OutcomeStatus, timeout_resolves_to
from transactional.storage.database import STORE_FILE

pytestmark = pytest.mark.slow

CLIENTS = 12
FAST_DUE = {"EMPORIUM_DUE_INTERVAL_SECONDS": "0.2"}  # the reconciler runs every 5 ticks
TOKENS = ["tok_sandbox_ok"] * 8 + ["tok_sandbox_capture_timeout", "tok_sandbox_refund_timeout"]
PAYMENTS = 80
KILL_AFTER_ACKS = 140  # acknowledged operations before the kill (a third to half of the work)


@dataclass
class Acked:
    kind: str  # capture or refund
    payment_id: str
    status: int
    body: dict[str, Any]
    request_id: str


@dataclass
class Load:
    acked: list[Acked] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[float, str]] = field(default_factory=list)
    in_flight: int = 0
    in_flight_at_kill: int = 0
    killed_at: float = 0.0


def prepare(server: LiveServer, keys: dict[str, str]) -> list[dict[str, Any]]:
    """A SKU with plenty of stock and PAYMENTS guest orders, each with an authorized card payment."""
    with server.client(keys["admin"]) as admin:
        sku_id, _ = stocked_sku(admin, "Crash pay", stock=10_000, price_minor=900)

    async def authorize_all() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {keys['storefront']}"}, timeout=30
        ) as shop:
            gate = asyncio.Semaphore(8)

            async def one(i: int) -> dict[str, Any]:
                async with gate:
                    order = ok(await shop.post("/api/v1/orders", json=guest_order_body(sku_id, 2)), 201)
                    body = {
                        "method": "card",
                        "token": TOKENS[i % len(TOKENS)],
                        "card_brand": "visa",
                        "card_last4": "4242",
                    }
                    payment = ok(
                        await shop.post(
                            f"/api/v1/orders/{order['order_id']}/payments",
                            json=body,
                            headers={"X-Order-Token": order["access_token"]},
                        ),
                        201,
                    )
                    assert payment["status"] == "authorized"
                    return {**payment, "token": body["token"]}

            return await asyncio.gather(*(one(i) for i in range(PAYMENTS)))

    return asyncio.run(authorize_all())


def steps(payment: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """What the clients do with one payment: capture a third, capture the rest, refund twice."""
    pid, total = payment["payment_id"], payment["amount_minor"]
    return [
        ("capture", f"/api/v1/payments/{pid}/capture", {"amount_minor": total // 3}),
        ("capture", f"/api/v1/payments/{pid}/capture", {}),
        ("refund", "/api/v1/refunds", {"payment_id": pid, "amount_minor": 100, "reason": "crash test"}),
        (
            "refund",
            "/api/v1/refunds",
            {"payment_id": pid, "amount_minor": total // 4, "reason": "crash test"},
        ),
    ]


async def _hammer(server: LiveServer, key: str, payments: list[dict[str, Any]]) -> Load:
    load = Load()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for payment in payments:
        queue.put_nowait(payment)
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS * 2)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=15
    ) as client:

        async def worker() -> None:
            while not killed.is_set() and not queue.empty():
                payment = queue.get_nowait()
                for kind, path, body in steps(payment):
                    if killed.is_set():
                        return
                    load.in_flight += 1
                    try:
                        response = await client.post(
                            path, json=body, headers={"Idempotency-Key": f"crash-{uuid.uuid4().hex}"}
                        )
                    except httpx.TransportError as exc:
                        load.errors.append((time.monotonic(), type(exc).__name__))
                        return
                    finally:
                        load.in_flight -= 1
                    load.statuses[response.status_code] += 1
                    if response.status_code >= 300:
                        load.codes[response.json().get("code", "?")] += 1
                        continue
                    load.acked.append(
                        Acked(
                            kind,
                            payment["payment_id"],
                            response.status_code,
                            response.json(),
                            response.headers["x-request-id"],
                        )
                    )

        async def killer() -> None:
            deadline = time.monotonic() + 60
            while len(load.acked) < KILL_AFTER_ACKS and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            load.in_flight_at_kill = load.in_flight
            load.killed_at = time.monotonic()
            await asyncio.to_thread(server.kill)
            killed.set()

        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        await kill_task
    return load


def read_store(data_dir: Path) -> dict[str, Any]:
    con = duckdb.connect(str(data_dir / STORE_FILE), read_only=True)
    try:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(sql).fetchall()

        return {
            "payments": {
                r[0]: r[1:]
                for r in rows(
                    "select payment_id, status, amount_minor, authorized_minor, captured_minor, "
                    "refunded_minor, voided_minor from payments"
                )
            },
            "operations": {
                r[0]: r[1:]
                for r in rows(
                    "select operation_id, payment_id, kind, status, amount_minor, refund_id, request_id "
                    "from payment_operations"
                )
            },
            "refunds": {
                r[0]: r[1:]
                for r in rows("select refund_id, payment_id, operation_id, status, amount_minor from refunds")
            },
            "postings": rows(
                "select p.posting_id, p.kind, p.reference_type, p.reference_id, p.payment_id, p.request_id, "
                "count(l.line_no), coalesce(sum(l.debit_minor), 0), coalesce(sum(l.credit_minor), 0), "
                "coalesce(sum(l.debit_minor) filter (where l.account = 'provider_clearing'), 0), "
                "coalesce(sum(l.credit_minor) filter (where l.account = 'provider_clearing'), 0) "
                "from ledger_postings as p left join ledger_lines as l using (posting_id) group by all"
            ),
            "orphan_lines": rows(
                "select count(*) from ledger_lines where posting_id not in (select posting_id from ledger_postings)"
            )[0][0],
            "accounts": dict(
                rows(
                    "select account, (sum(debit_minor) - sum(credit_minor))::bigint from ledger_lines group by 1"
                )
            ),
            "totals": rows("select sum(debit_minor), sum(credit_minor) from ledger_lines")[0],
        }
    finally:
        con.close()


def wait_until_settled(
    admin: httpx.Client, order_ids: set[str], timeout: float = 30
) -> dict[str, dict[str, Any]]:
    """Poll the orders' payments until every one of their operations is settled."""
    deadline = time.monotonic() + timeout
    while True:
        ops: dict[str, dict[str, Any]] = {}
        for order_id in order_ids:
            for payment in ok(admin.get(f"/api/v1/orders/{order_id}/payments"))["items"]:
                for op in payment["operations"]:
                    ops[op["operation_id"]] = op
        open_ops = {o for o, op in ops.items() if op["status"] not in ("succeeded", "failed")}
        if not open_ops:
            return ops
        assert time.monotonic() < deadline, f"still unsettled after {timeout}s: {sorted(open_ops)}"
        time.sleep(0.2)


def test_kill_9_under_payment_load_keeps_every_acknowledged_capture_and_refund(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    keys = seed(data_dir)
    server = LiveServer(data_dir, free_port(), env=FAST_DUE).start()
    try:
        payments = prepare(server, keys)
        load = asyncio.run(_hammer(server, keys["finance"], payments))
    finally:
        server.kill()
    assert server.proc is not None and server.proc.returncode == -9
    assert len(load.acked) >= KILL_AFTER_ACKS, f"too little load to mean anything: {len(load.acked)}"
    assert load.in_flight_at_kill > 0, "the kill must land while requests are in flight"
    assert not {s for s in load.statuses if s >= 500}, load.statuses
    assert set(load.statuses) <= {200, 201, 202, 409, 422}, load.statuses
    # 409/422 only from the in-flight and amount rules (a capture still unknown holds its amount).
    assert set(load.codes) <= {
        "refund_exceeds_captured",
        "capture_exceeds_authorized",
        "payment_not_capturable",
        "payment_not_refundable",
        "capture_in_flight",
    }, load.codes
    assert all(when >= load.killed_at for when, _ in load.errors), "connection errors before the kill"
    unknown_acked = [a for a in load.acked if a.status == 202]
    assert unknown_acked, "some timed-out call must have been answered 202 before the kill"

    pending_at_kill = sum(
        1 for _, _, status, *_ in read_store(data_dir)["operations"].values() if status == "pending"
    )
    # Restart: orphaned 'pending' calls become 'unknown' and the reconciler (every second here)
    # settles every open call.
    restarted = LiveServer(data_dir, free_port(), env=FAST_DUE).start()
    try:
        with restarted.client(keys["admin"]) as admin:
            unknown_ops = {a.body["operation_id"] for a in unknown_acked}
            settled = wait_until_settled(admin, {p["order_id"] for p in payments})
        for op_id in unknown_ops:
            truth = timeout_resolves_to(op_id)
            expected = "succeeded" if truth is OutcomeStatus.succeeded else "failed"
            assert settled[op_id]["status"] == expected, (op_id, settled[op_id])
    finally:
        assert restarted.terminate() == 0, restarted.log()

    # The API's balances, then the store read-only.
    final = LiveServer(data_dir, free_port()).start()
    try:
        with final.client(keys["finance"]) as finance:
            api_totals = ok(finance.get("/api/v1/ledger/balances"))["totals"]
    finally:
        assert final.terminate() == 0, final.log()
    db = read_store(data_dir)
    assert_ledger_whole(db, load, api_totals)
    print(
        f"\npayment kill -9: {len(load.acked)} operations acknowledged ({len(unknown_acked)} as unknown), "
        f"{load.in_flight_at_kill} requests in flight at the kill, {pending_at_kill} operations left "
        f"pending by it, statuses {dict(load.statuses)}, codes {dict(load.codes)}"
    )


def assert_ledger_whole(db: dict[str, Any], load: Load, api_totals: dict[str, int]) -> None:
    ops, refunds, payments = db["operations"], db["refunds"], db["payments"]
    assert all(status in ("succeeded", "failed") for _, _, status, *_ in ops.values()), "an operation is open"
    assert all(status in ("succeeded", "failed") for _, _, status, _ in refunds.values())

    # Every posting balances and has lines; no line without its posting; the whole ledger balances.
    for posting_id, kind, *_, n_lines, debit, credit, _, _ in db["postings"]:
        assert n_lines >= 2 and debit == credit, (posting_id, kind, debit, credit)
    assert db["orphan_lines"] == 0
    assert db["totals"][0] == db["totals"][1]
    assert {a: b for a, b in api_totals.items() if b} == {a: b for a, b in db["accounts"].items() if b}

    captures: dict[str, list[tuple[str | None, int]]] = {}  # payment → (request id, amount) per posting
    refund_postings: Counter[str] = Counter()
    for _, kind, ref_type, ref_id, payment_id, request_id, _, _, _, clearing_dr, clearing_cr in db[
        "postings"
    ]:
        if kind == "capture":
            captures.setdefault(payment_id, []).append((request_id, clearing_dr))
        if kind == "refund":
            assert ref_type == "refund"
            refund_postings[ref_id] += 1
            assert clearing_cr == refunds[ref_id][3], ref_id

    # Every acknowledged capture and refund is stored as succeeded with its posting.
    for a in load.acked:
        if a.status == 202:
            continue
        if a.kind == "capture":
            op = ops[a.body["operation_id"]]
            assert op[2] == "succeeded" and a.body["operation_status"] == "succeeded", (a.body, op)
            assert (a.request_id, op[3]) in captures.get(a.payment_id, []), f"capture {op} has no posting"
        else:
            refund = refunds[a.body["refund_id"]]
            assert refund[2] == "succeeded" and a.body["status"] == "succeeded", (a.body, refund)
            assert refund_postings[a.body["refund_id"]] == 1, f"refund {a.body['refund_id']} has no posting"

    # Per payment: what the ledger booked is what succeeded, and no more than the rules allow.
    succeeded_captures: Counter[str] = Counter()
    for payment_id, kind, status, amount, _, _ in ops.values():
        if kind == "capture" and status == "succeeded":
            succeeded_captures[payment_id] += amount
    succeeded_refunds: Counter[str] = Counter()
    for refund_id, (payment_id, _, status, amount) in refunds.items():
        assert refund_postings[refund_id] == (1 if status == "succeeded" else 0), refund_id
        if status == "succeeded":
            succeeded_refunds[payment_id] += amount
    for payment_id, (_, amount, authorized, captured, refunded, _voided) in payments.items():
        assert captured <= authorized <= amount and refunded <= captured, payment_id
        assert captured == succeeded_captures[payment_id], payment_id
        assert refunded == succeeded_refunds[payment_id], payment_id
        assert sum(dr for _, dr in captures.get(payment_id, [])) == captured, payment_id
