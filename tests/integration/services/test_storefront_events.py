"""Storefront events on a real store file: ingest, dedupe (in a batch, across batches, after a
restart, after a rollback), whole-batch rejection and the server's own events."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.integration.conftest import ADMIN, open_writer
from tests.integration.storage.test_state import db_rows, one_batch, running, submit, warehouse
from transactional.domain.clock import ManualClock
from transactional.domain.errors import Invalid
from transactional.domain.events import server_purchase_event, server_refund_event
from transactional.services import storefront_events as svc
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import InternalError, Writer

PAN = "4111 1111 1111 1111"


def event(n: int, clock: ManualClock, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=n)),
        "event_name": "add_to_cart",
        "session_id": "s_1",
        "anonymous_id": "anon.1",
        "timestamp": clock.now().isoformat(),
        "traffic_source": "email",
        "utm_source": "newsletter",
        "utm_campaign": "spring",
        "device": "desktop",
        "items": [
            {"item_id": f"sku_{n}", "item_name": "Mug", "price_minor": 1200, "quantity": 2, "index": 3},
            {"item_id": "sku_x", "item_name": "Tee"},
        ],
    }
    raw.update(overrides)
    return raw


def ingest(writer: Writer, events: list[dict[str, Any]]) -> dict[str, int]:
    return writer.run(lambda uow: svc.ingest_events(uow, events), ADMIN).body  # type: ignore[no-any-return]


def stored_ids(writer: Writer) -> list[str]:
    return [i for (i,) in db_rows(writer, "select event_id from storefront_events order by event_id")]


def ids(*ns: int) -> list[str]:
    return sorted(str(uuid.UUID(int=n)) for n in ns)


def test_a_batch_is_stored_with_its_items(writer: Writer, clock: ManualClock) -> None:
    counts = ingest(writer, [event(1, clock), event(2, clock, event_name="view_cart", items=[])])
    assert counts == {"received": 2, "inserted": 2, "duplicates": 0}
    row = db_rows(
        writer,
        "select event_name, source, occurred_at, received_at, session_id, utm_campaign, device, commit_seq "
        "from storefront_events where event_id = ?",
        [str(uuid.UUID(int=1))],
    )[0]
    seq = db_rows(writer, "select max(commit_seq) from commits")[0][0]
    assert row == ("add_to_cart", "client", clock.now(), clock.now(), "s_1", "spring", "desktop", seq)
    assert db_rows(
        writer,
        "select event_id, item_index, item_id, item_name, item_list_index, price_minor, quantity "
        "from storefront_event_items order by event_id, item_index",
    ) == [
        (str(uuid.UUID(int=1)), 0, "sku_1", "Mug", 3, 1200, 2),
        (str(uuid.UUID(int=1)), 1, "sku_x", "Tee", None, None, 1),
    ]


def test_duplicates_within_a_batch_and_across_batches_are_ignored(writer: Writer, clock: ManualClock) -> None:
    upper = event(1, clock, event_id=str(uuid.UUID(int=1)).upper())
    assert ingest(writer, [event(1, clock), upper, event(2, clock)]) == {
        "received": 3,
        "inserted": 2,
        "duplicates": 1,
    }
    assert ingest(writer, [event(2, clock), event(3, clock)]) == {
        "received": 2,
        "inserted": 1,
        "duplicates": 1,
    }
    assert ingest(writer, [event(1, clock)])["inserted"] == 0
    assert stored_ids(writer) == ids(1, 2, 3)
    assert db_rows(writer, "select count(*) from storefront_event_items") == [(6,)]


def test_commands_of_one_writer_batch_dedupe_against_each_other(writer: Writer, clock: ManualClock) -> None:
    with running(writer):
        with one_batch(writer):
            first = submit(writer, lambda uow: svc.ingest_events(uow, [event(1, clock), event(2, clock)]))
            second = submit(writer, lambda uow: svc.ingest_events(uow, [event(2, clock), event(3, clock)]))
        assert first.result(10).body["inserted"] == 2
        assert second.result(10).body == {"received": 2, "inserted": 1, "duplicates": 1}
    assert stored_ids(writer) == ids(1, 2, 3)


def test_ids_are_remembered_after_a_restart(tmp_path: Path, writer: Writer, clock: ManualClock) -> None:
    ingest(writer, [event(1, clock), event(2, clock)])
    writer.con.close()
    reopened = open_writer(tmp_path, clock)
    try:
        assert ingest(reopened, [event(1, clock), event(4, clock)]) == {
            "received": 2,
            "inserted": 1,
            "duplicates": 1,
        }
        assert stored_ids(reopened) == ids(1, 2, 4)
    finally:
        reopened.con.close()
    writer.con = duckdb.connect(":memory:")  # the fixture closes it


def test_an_invalid_event_rejects_the_whole_batch_and_stores_nothing(
    writer: Writer, clock: ManualClock
) -> None:
    batch = [
        event(1, clock),
        event(2, clock, event_name="purchase"),
        event(3, clock),
        event(4, clock, utm_campaign=f"x {PAN}"),
        event(5, clock, timestamp=(clock.now() + timedelta(minutes=6)).isoformat()),
        event(6, clock, timestamp=(clock.now() - timedelta(hours=73)).isoformat()),
    ]
    with pytest.raises(Invalid) as err:
        ingest(writer, batch)
    assert err.value.code == "invalid_events"
    assert [(b["index"], b["code"]) for b in err.value.extra["bad"]] == [
        (1, "server_only_event"),
        (3, "card_data_rejected"),
        (4, "timestamp_in_future"),
        (5, "timestamp_too_old"),
    ]
    assert stored_ids(writer) == []
    # The valid events of the rejected batch were not marked as seen either.
    assert ingest(writer, [event(1, clock), event(3, clock)])["inserted"] == 2


def test_the_servers_purchase_and_refund_events_are_stored_once(writer: Writer, clock: ManualClock) -> None:
    order = {
        "order_id": "ord_0000018f3a2b4c5d6e7f8a9b",
        "customer_id": None,
        "currency": "USD",
        "total_minor": 4320,
        "tax_minor": 320,
        "shipping_minor": 500,
        "traffic_source": "email",
        "device": "mobile",
    }
    lines = [{"sku_id": "sku_a", "sku_name": "Mug", "quantity": 2, "unit_price_minor": 1750}]

    def emit(uow: UnitOfWork) -> None:
        svc.emit_server_event(uow, server_purchase_event(order, "s_1", uow.now, lines=lines))
        svc.emit_server_event(uow, server_purchase_event(order, "s_1", uow.now, lines=lines))

    writer.run(emit, ADMIN)
    clock.advance(timedelta(hours=30))
    writer.run(emit, ADMIN)  # emitted again later: the same event_id
    refund = server_refund_event(order, "ref_1", 1000, "s_1", clock.now())
    writer.run(lambda uow: svc.emit_server_event(uow, refund), ADMIN)
    writer.run(lambda uow: svc.emit_server_event(uow, refund), ADMIN)
    assert db_rows(
        writer,
        "select event_name, source, value_minor, tax_minor, shipping_minor, transaction_id "
        "from storefront_events order by occurred_at",
    ) == [
        ("purchase", "server", 4320, 320, 500, "ord_0000018f3a2b4c5d6e7f8a9b"),
        ("refund", "server", 1000, None, None, "ord_0000018f3a2b4c5d6e7f8a9b"),
    ]
    assert db_rows(writer, "select count(*) from storefront_event_items") == [(1,)]
    # Only server-built events go this way: a programming error, not a client's.
    with pytest.raises(InternalError):
        writer.run(lambda uow: svc.emit_server_event(uow, replace(refund, source="client")), ADMIN)


def test_a_client_event_cannot_take_a_server_events_id(writer: Writer, clock: ManualClock) -> None:
    order = {"order_id": "ord_1", "currency": "USD", "total_minor": 100, "tax_minor": 0, "shipping_minor": 0}
    purchase = server_purchase_event(order, None, clock.now())
    writer.run(lambda uow: svc.emit_server_event(uow, purchase), ADMIN)
    assert ingest(writer, [event(1, clock, event_id=purchase.event_id)])["inserted"] == 0


def test_a_batch_rolled_back_and_rerun_one_by_one_leaves_no_id_of_a_failed_command_marked(
    writer: Writer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Writer._write

    def reject_poison(self: Writer, table: str, op: str, rows: list[dict[str, Any]]) -> None:
        real(self, table, op, rows)
        if any(r.get("name") == "POISON" for r in rows):
            raise duckdb.ConstraintException("simulated constraint failure")

    def poisoned(uow: UnitOfWork) -> Any:
        svc.ingest_events(uow, [event(2, clock), event(3, clock)])
        return warehouse("P2", name="POISON")(uow)

    monkeypatch.setattr(Writer, "_write", reject_poison)
    with running(writer):
        with one_batch(writer):
            good = submit(writer, lambda uow: svc.ingest_events(uow, [event(1, clock), event(2, clock)]))
            bad = submit(writer, poisoned)
            late = submit(writer, lambda uow: svc.ingest_events(uow, [event(3, clock)]))
        assert good.result(10).body["inserted"] == 2
        with pytest.raises(Exception, match="could not commit"):
            bad.result(10)
        # In the first run id 3 was claimed by the poisoned command; re-run alone, it is new.
        assert late.result(10).body["inserted"] == 1
    assert writer.stats["rollbacks"] == 2
    assert stored_ids(writer) == ids(1, 2, 3)
    assert db_rows(writer, "select count(*) from storefront_events") == [(3,)]


def test_ids_leave_memory_once_older_than_the_window(writer: Writer, clock: ManualClock) -> None:
    ingest(writer, [event(1, clock), event(2, clock)])
    window = writer.state.recent_ids["storefront_events"]
    assert len(window) == 2
    clock.advance(timedelta(hours=80))
    ingest(writer, [event(3, clock)])
    assert len(window) == 1  # ids 1 and 2 can no longer be sent: their timestamps are too old
    with pytest.raises(Invalid) as err:
        ingest(writer, [event(1, clock, timestamp=(clock.now() - timedelta(hours=80)).isoformat())])
    assert err.value.extra["bad"][0]["code"] == "timestamp_too_old"


def test_a_restart_loads_only_ids_inside_the_window(
    tmp_path: Path, writer: Writer, clock: ManualClock
) -> None:
    ingest(writer, [event(1, clock)])
    clock.advance(timedelta(hours=80))
    ingest(writer, [event(2, clock)])
    writer.con.close()
    reopened = open_writer(tmp_path, clock)
    try:
        assert len(reopened.state.recent_ids["storefront_events"]) == 1
    finally:
        reopened.con.close()
    writer.con = duckdb.connect(":memory:")


def test_events_dated_in_the_store_clock_are_utc(writer: Writer, clock: ManualClock) -> None:
    stamp = clock.now().astimezone(datetime.now().astimezone().tzinfo).isoformat()
    ingest(writer, [event(1, clock, timestamp=stamp.replace("+00:00", "Z"))])
    assert db_rows(writer, "select occurred_at from storefront_events") == [(clock.now().astimezone(UTC),)]
