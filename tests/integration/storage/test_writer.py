"""The serial writer on a real store file: failures in a batch, SQL errors at flush, restarts,
Idempotency-Keys, ids, key retention and draining on stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from tests.integration.conftest import ADMIN, open_writer
from tests.integration.services.order_fixtures import STOREFRONT, Catalogue, run, seed
from tests.integration.storage.test_state import (
    db_rows,
    last_commit,
    one_batch,
    place_cmd,
    running,
    submit,
    warehouse,
)
from transactional.domain.access import SYSTEM, Actor
from transactional.domain.clock import ManualClock
from transactional.domain.errors import Conflict, NotFound
from transactional.domain.ids import IdGenerator
from transactional.services import orders as svc
from transactional.services.due import run_due
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, IdempotencyClaim, InternalError, ShuttingDown, Writer


def codes(writer: Writer) -> list[str]:
    return [c for (c,) in db_rows(writer, "select code from warehouses order by code")]


def hot_codes(writer: Writer) -> list[str]:
    return sorted(w["code"] for w in writer.state.tables["warehouses"].rows.values())


@pytest.fixture
def cat(writer: Writer) -> Catalogue:
    return run(writer, seed, ADMIN)


# -- a failing command -------------------------------------------------------------


def test_a_domain_error_in_the_middle_of_a_batch_fails_only_that_command(writer: Writer) -> None:
    def refuse(uow: UnitOfWork) -> None:
        warehouse("MID")(uow)  # staged, then the rule breaks
        raise Conflict("no", code="test_refused")

    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, warehouse("LEFT")),
                submit(writer, refuse),
                submit(writer, warehouse("RIGHT")),
            ]
        left, right = futures[0].result(10), futures[2].result(10)
        with pytest.raises(Conflict) as refused:
            futures[1].result(10)
    assert refused.value.code == "test_refused"
    assert codes(writer) == hot_codes(writer) == ["LEFT", "RIGHT"]
    seq, commands = last_commit(writer)
    assert commands == 3
    assert db_rows(writer, "select distinct commit_seq from warehouses") == [(seq,)]
    audited = {
        t for (t,) in db_rows(writer, "select target_id from audit_log where action = 'warehouse.create'")
    }
    assert audited == {left.body["warehouse_id"], right.body["warehouse_id"]}


def test_an_unexpected_exception_in_a_service_is_an_internal_error_that_stages_nothing(
    writer: Writer,
) -> None:
    def crash(uow: UnitOfWork) -> None:
        warehouse("BROKEN")(uow)
        raise KeyError("a bug")

    with pytest.raises(InternalError) as failed:
        writer.run(crash, ADMIN)
    assert failed.value.code == "internal_error" and "KeyError" in failed.value.detail
    assert codes(writer) == [] and hot_codes(writer) == []

    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, warehouse("A1")),
                submit(writer, crash),
                submit(writer, warehouse("A2")),
            ]
        futures[0].result(10)
        futures[2].result(10)
        with pytest.raises(InternalError):
            futures[1].result(10)
    assert codes(writer) == hot_codes(writer) == ["A1", "A2"]
    assert db_rows(writer, "select count(*) from audit_log where action = 'warehouse.create'") == [(2,)]


# -- SQL failing at flush -----------------------------------------------------------


def test_a_sql_failure_at_flush_rolls_back_and_reruns_the_commands_one_by_one(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Writer._write
    failures: list[int] = []

    def fail_once(self: Writer, table: str, op: str, rows: list[dict[str, Any]]) -> None:
        real(self, table, op, rows)
        if table == "warehouses" and rows and not failures:  # the rows are written, then the batch fails
            failures.append(len(rows))
            raise duckdb.IOException("simulated failure after a statement")

    monkeypatch.setattr(Writer, "_write", fail_once)
    seq_before, _ = last_commit(writer)
    with running(writer):
        with one_batch(writer):
            futures = [submit(writer, warehouse(c)) for c in ("R1", "R2", "R3")]
        results = [f.result(10).body for f in futures]

    assert failures == [3]  # the batch's one insert of three rows failed...
    assert writer.stats["rollbacks"] == 1
    assert codes(writer) == hot_codes(writer) == ["R1", "R2", "R3"]  # ...and nothing doubled
    assert {r["warehouse_id"] for r in results} == {
        w for (w,) in db_rows(writer, "select warehouse_id from warehouses")
    }
    assert db_rows(writer, "select count(*) from audit_log where action = 'warehouse.create'") == [(3,)]
    # Re-run one by one: a commit each, numbered on from the last good one.
    assert db_rows(writer, "select commit_seq, commands from commits where commit_seq > ?", [seq_before]) == [
        (seq_before + 1, 1),
        (seq_before + 2, 1),
        (seq_before + 3, 1),
    ]


def test_only_the_offending_command_fails_when_sql_rejects_its_rows(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Writer._write

    def reject_poison(self: Writer, table: str, op: str, rows: list[dict[str, Any]]) -> None:
        real(self, table, op, rows)
        if any(r.get("name") == "POISON" for r in rows):
            raise duckdb.ConstraintException("simulated constraint failure")

    monkeypatch.setattr(Writer, "_write", reject_poison)
    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, warehouse("P1")),
                submit(writer, warehouse("P2", name="POISON")),
                submit(writer, warehouse("P3")),
            ]
        futures[0].result(10)
        futures[2].result(10)
        with pytest.raises(InternalError) as failed:
            futures[1].result(10)
    assert failed.value.code == "internal_error"
    assert writer.stats["rollbacks"] == 2  # the batch, then the offender on its own
    assert codes(writer) == hot_codes(writer) == ["P1", "P3"]
    assert db_rows(writer, "select count(*) from audit_log where action = 'warehouse.create'") == [(2,)]

    # The writer goes on committing normally afterwards.
    monkeypatch.setattr(Writer, "_write", real)
    writer.run(warehouse("P4"), ADMIN)
    assert codes(writer) == ["P1", "P3", "P4"]


def test_a_real_constraint_violation_at_flush_fails_only_its_command(writer: Writer) -> None:
    """Append-only rows are never checked in memory: a duplicate key there is a real SQL error
    at flush, which aborts DuckDB's whole transaction (and a COMMIT would silently roll back)."""

    # No journal of the schema has a key constraint; this test gives one a unique index.
    writer.con.execute("create unique index test_unique_event on tracking_events (tracking_event_id)")

    def journal(code: str, event_id: str) -> Any:
        def fn(uow: UnitOfWork) -> None:
            warehouse(code)(uow)
            uow.insert(
                "tracking_events",
                {
                    "tracking_event_id": event_id,
                    "shipment_id": "shp_test",
                    "order_id": "ord_test",
                    "carrier_code": "test",
                    "status": "delivered",
                    "previous_status": "in_transit",
                    "applied": True,
                    "occurred_at": uow.now,
                    "received_at": uow.now,
                    "location": None,
                    "source": "operator",
                    "actor_key_id": None,
                    "request_id": None,
                },
            )

        return fn

    writer.run(journal("W0", "shp_taken"), ADMIN)
    with running(writer):
        with one_batch(writer):
            futures = [
                submit(writer, journal("W1", "shp_1")),
                submit(writer, journal("W2", "shp_taken")),
                submit(writer, journal("W3", "shp_3")),
            ]
        futures[0].result(10)
        futures[2].result(10)
        with pytest.raises(InternalError):
            futures[1].result(10)
    assert writer.stats["rollbacks"] == 2
    assert codes(writer) == hot_codes(writer) == ["W0", "W1", "W3"]
    assert db_rows(writer, "select tracking_event_id from tracking_events order by 1") == [
        ("shp_1",),
        ("shp_3",),
        ("shp_taken",),
    ]


# -- restart ------------------------------------------------------------------------


def test_a_writer_reopened_on_the_same_dir_loads_what_was_committed(
    writer: Writer, cat: Catalogue, tmp_path: Path, clock: ManualClock
) -> None:
    open_order = run(writer, place_cmd(cat, [("A", 3)]), STOREFRONT)
    closed = run(writer, place_cmd(cat, [("B", 1)]), STOREFRONT)
    run(writer, lambda uow: svc.cancel_order(uow, closed["order_id"], svc.CancelOrder(reason="test")))
    claim = IdempotencyClaim.of("key_1", "POST /api/v1/warehouses", "k-1", b"{}")
    writer.run(warehouse("IDEM"), ADMIN, idempotency=claim, success_status=201)
    levels = {k: (r["on_hand"], r["reserved"]) for k, r in writer.state.tables["stock_levels"].rows.items()}
    seq = writer.state.commit_seq
    ids_before = {
        i
        for (i,) in db_rows(
            writer, "select order_id from orders union all select movement_id from stock_movements"
        )
    }
    writer.con.close()

    reopened = open_writer(tmp_path, clock)  # same seed, and the clock has not moved
    try:
        state = reopened.state
        assert state.commit_seq == seq
        assert {
            k: (r["on_hand"], r["reserved"]) for k, r in state.tables["stock_levels"].rows.items()
        } == levels
        assert sorted(w["code"] for w in state.tables["warehouses"].rows.values()) == ["IDEM", "east", "west"]
        assert set(state.tables["orders"].rows) == {(open_order["order_id"],)}  # open work only
        assert [r["quantity"] for r in state.tables["order_allocations"].rows.values()] == [3]
        assert len(state.tables["order_lines"].rows) == 1
        assert reopened.state.get("orders", (closed["order_id"],))["status"] == "cancelled"  # type: ignore[index]

        replay = reopened.run(warehouse("IDEM"), ADMIN, idempotency=claim, success_status=201)
        assert replay.replayed and replay.status == 201

        # New ids continue past the stored ones even on the same seed and instant.
        again = run(reopened, place_cmd(cat, [("A", 1)]), STOREFRONT)
        new_ids = {again["order_id"], *(a["allocation_id"] for a in again["allocations"])}
        assert not new_ids & ids_before
        assert reopened.state.commit_seq == seq + 1
    finally:
        reopened.con.close()


# -- Idempotency-Key ------------------------------------------------------------------


def test_an_idempotency_key_replays_the_stored_outcome_and_refuses_another_body(writer: Writer) -> None:
    calls: list[str] = []

    def create(code: str) -> Any:
        def fn(uow: UnitOfWork) -> Any:
            calls.append(code)
            return warehouse(code)(uow)

        return fn

    route = "POST /api/v1/warehouses"
    claim = IdempotencyClaim.of("key_a", route, "abc", b'{"code": "K1"}')
    first = writer.run(create("K1"), ADMIN, idempotency=claim, success_status=201)
    assert (first.status, first.replayed) == (201, False)

    again = writer.run(create("K1"), ADMIN, idempotency=claim, success_status=201)
    assert (again.status, again.replayed) == (201, True)
    assert again.body == orjson.loads(orjson.dumps(first.body, default=str))
    assert calls == ["K1"]  # the service did not run again

    with pytest.raises(Conflict) as reused:
        writer.run(
            create("K2"), ADMIN, idempotency=IdempotencyClaim.of("key_a", route, "abc", b'{"code": "K2"}')
        )
    assert reused.value.code == "idempotency_key_reused"

    # Scoped per API key and route: the same key string elsewhere is a new request.
    other_key = writer.run(create("K3"), ADMIN, idempotency=IdempotencyClaim.of("key_b", route, "abc", b"{}"))
    other_route = writer.run(
        create("K4"), ADMIN, idempotency=IdempotencyClaim.of("key_a", "POST /api/v1/other", "abc", b"{}")
    )
    assert not other_key.replayed and not other_route.replayed
    assert calls == ["K1", "K3", "K4"]
    assert codes(writer) == ["K1", "K3", "K4"]
    stored = db_rows(
        writer,
        "select status_code, request_sha256 from idempotency_keys where api_key_id = 'key_a' and idempotency_key = 'abc' and route = ?",
        [route],
    )
    assert stored == [(201, claim.request_sha256)]


def test_a_failed_command_keeps_no_idempotency_key_and_a_duplicate_in_one_batch_is_a_replay(
    writer: Writer,
) -> None:
    claim = IdempotencyClaim.of("key_a", "POST /x", "retry-me", b"{}")
    with pytest.raises(NotFound):
        writer.run(lambda uow: uow.require("warehouses", "whs_missing"), ADMIN, idempotency=claim)
    assert db_rows(writer, "select count(*) from idempotency_keys") == [(0,)]
    assert not writer.run(warehouse("OK"), ADMIN, idempotency=claim).replayed  # the retry runs

    twice = IdempotencyClaim.of("key_a", "POST /x", "twice", b"{}")
    with running(writer):
        with one_batch(writer):
            futures = [
                writer.submit(Command(fn=warehouse("TWICE"), actor=ADMIN, idempotency=twice))
                for _ in range(2)
            ]
        first, second = (f.result(10) for f in futures)
    assert not first.replayed and second.replayed
    assert second.body["warehouse_id"] == first.body["warehouse_id"]
    assert codes(writer) == ["OK", "TWICE"]


def test_run_due_with_a_cutoff_forgets_old_idempotency_keys(writer: Writer, clock: ManualClock) -> None:
    old = IdempotencyClaim.of("key_a", "POST /x", "old", b"{}")
    writer.run(warehouse("OLD"), ADMIN, idempotency=old)
    clock.advance(timedelta(hours=49))
    fresh = IdempotencyClaim.of("key_a", "POST /x", "fresh", b"{}")
    writer.run(warehouse("FRESH"), ADMIN, idempotency=fresh)

    kept = writer.run(lambda uow: run_due(uow), SYSTEM).body
    assert kept["idempotency_keys_pruned"] == 0
    result = writer.run(
        lambda uow: run_due(uow, idempotency_cutoff=uow.now - writer.idempotency_retention), SYSTEM
    ).body
    assert result["idempotency_keys_pruned"] == 1
    assert db_rows(writer, "select idempotency_key from idempotency_keys") == [("fresh",)]
    assert [k[2] for k in writer.state.tables["idempotency_keys"].rows] == ["fresh"]
    # A forgotten key is a new request again; a kept one still replays.
    assert writer.run(warehouse("OLD2"), ADMIN, idempotency=old).replayed is False
    assert writer.run(warehouse("FRESH"), ADMIN, idempotency=fresh).replayed is True


def test_keys_past_retention_are_dropped_when_a_writer_opens(
    writer: Writer, clock: ManualClock, tmp_path: Path
) -> None:
    writer.run(warehouse("OLD"), ADMIN, idempotency=IdempotencyClaim.of("k", "POST /x", "old", b"{}"))
    clock.advance(timedelta(hours=47))
    writer.run(warehouse("NEW"), ADMIN, idempotency=IdempotencyClaim.of("k", "POST /x", "new", b"{}"))
    clock.advance(timedelta(hours=2))  # old is 49 h old, new 2 h: retention is 48 h
    writer.con.close()
    reopened = open_writer(tmp_path, clock)
    try:
        assert [k[2] for k in reopened.state.tables["idempotency_keys"].rows] == ["new"]
        assert db_rows(reopened, "select idempotency_key from idempotency_keys") == [("new",)]
    finally:
        reopened.con.close()


# -- ids --------------------------------------------------------------------------------


def test_ids_on_a_clock_that_stands_still_increase_strictly_and_repeat_with_the_seed() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def draw(seed: int | None, n: int = 2000) -> list[str]:
        ids = IdGenerator(ManualClock(start), seed=seed)
        return [ids.new("ord") for _ in range(n)]

    first = draw(7)
    assert all(a < b for a, b in zip(first, first[1:], strict=False))
    assert first == draw(7)
    assert first != draw(8)
    millis = f"{int(start.timestamp() * 1000):012x}"
    assert {i.split("_")[1][:12] for i in first} == {millis}
    assert all(len(i) == len("ord_") + 24 for i in first)
    unseeded = draw(None)
    assert all(a < b for a, b in zip(unseeded, unseeded[1:], strict=False))

    # A clock set back never makes ids go backwards.
    clock = ManualClock(start)
    ids = IdGenerator(clock, seed=1)
    before = ids.new("x")
    clock.set(start - timedelta(minutes=5))
    assert ids.new("x") > before

    # Reseeding on the same salt repeats; another salt gives a fresh stream.
    a, b = IdGenerator(ManualClock(start), seed=7), IdGenerator(ManualClock(start), seed=7)
    a.reseed(3)
    b.reseed(3)
    assert [a.new("x") for _ in range(5)] == [b.new("x") for _ in range(5)]
    c = IdGenerator(ManualClock(start), seed=7)
    c.reseed(4)
    assert c.new("x") != IdGenerator(ManualClock(start), seed=7).new("x")


# -- stopping -------------------------------------------------------------------------


def test_stop_drains_every_queued_command_before_returning(writer: Writer) -> None:
    seq_before, _ = last_commit(writer)
    writer.start()
    futures = [submit(writer, warehouse(f"D{i:03d}")) for i in range(500)]
    writer.stop()
    assert not writer.is_running
    assert all(f.done() for f in futures)
    results = [f.result(0) for f in futures]
    assert all(r.status == 200 for r in results)
    assert len(codes(writer)) == 500
    assert hot_codes(writer) == codes(writer)
    committed = db_rows(
        writer, "select count(*), sum(commands) from commits where commit_seq > ?", [seq_before]
    )
    assert committed[0][1] == 500 and committed[0][0] < 500  # batched, not a commit each

    refused = submit(writer, warehouse("LATE"))
    with pytest.raises(ShuttingDown):
        refused.result(0)


def test_stop_still_ends_when_commands_arrive_behind_the_stop_signal(writer: Writer) -> None:
    """A submit that passed the accepting check just before stop() may land behind the stop
    marker, even more of them than fit one batch: the writer runs them and still ends."""
    writer.max_batch = 2
    entered, gate = threading.Event(), threading.Event()

    def hold(uow: UnitOfWork) -> None:
        entered.set()
        gate.wait(10)

    writer.start()
    held = submit(writer, hold)
    assert entered.wait(10)
    early = submit(writer, warehouse("E1"))
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    while writer._queue.qsize() < 2:  # E1, then stop()'s marker
        stopper.join(0.01)
    late = [Command(fn=warehouse(f"L{i}"), actor=ADMIN) for i in range(3)]
    for command in late:  # racing submitters that saw the writer still accepting
        writer._queue.put(command)
    gate.set()
    stopper.join(10)
    assert not stopper.is_alive(), "stop() hung: the writer thread never ended"
    held.result(0)
    early.result(0)
    assert all(c.future.result(0).status == 200 for c in late)
    assert codes(writer) == ["E1", "L0", "L1", "L2"]


def test_run_refuses_while_the_thread_runs(writer: Writer) -> None:
    with running(writer), pytest.raises(RuntimeError):
        writer.run(warehouse("X"), Actor(role="admin"))
