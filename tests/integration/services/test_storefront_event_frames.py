"""The demo's bulk event path on a real store file: ingest_frames stores what ingest_events would,
dedupes within a frame, across calls and against events sent over the per-event path, rejects a
frame whole, and leaves no id claimed when its batch is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import duckdb
import polars as pl
import pytest

from tests.integration.conftest import ADMIN, open_writer
from tests.integration.services.test_storefront_events import event, ingest, stored_ids
from tests.integration.storage.test_state import db_rows, one_batch, running, submit, warehouse
from tests.unit.domain.test_event_frames import to_frames
from transactional.domain.clock import ManualClock
from transactional.domain.errors import Invalid
from transactional.services import storefront_events as svc
from transactional.services.store import create_store
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Writer

PAN = "4111 1111 1111 1111"


def frames(raws: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return to_frames(raws)  # the same events as frames, as the unit property test builds them


def ingest_frames(writer: Writer, raws: list[dict[str, Any]]) -> dict[str, int]:
    events, items = frames(raws)
    return writer.run(lambda uow: svc.ingest_frames(uow, events, items), ADMIN).body  # type: ignore[no-any-return]


def ids(*ns: int) -> list[str]:
    return sorted(str(uuid.UUID(int=n)) for n in ns)


TABLE_COLUMNS = (
    "select * exclude (commit_seq) from storefront_events order by event_id",
    "select * exclude (commit_seq) from storefront_event_items order by event_id, item_index",
)


@pytest.fixture
def twin(tmp_path_factory: pytest.TempPathFactory, clock: ManualClock) -> Iterator[Writer]:
    """A second store, to compare the two paths row for row."""
    w = open_writer(tmp_path_factory.mktemp("twin"), clock)
    w.run(
        lambda uow: create_store(
            uow, name="Test Store", currency="USD", timezone="America/New_York", tax_mode="exclusive"
        ),
        ADMIN,
    )
    yield w
    w.con.close()


def test_a_frame_stores_the_rows_the_per_event_path_stores(
    writer: Writer, twin: Writer, clock: ManualClock
) -> None:
    batch = [
        event(1, clock, event_id=str(uuid.UUID(int=1)).upper(), customer_id="cus_0123456789abcdef01234567"),
        event(2, clock, event_name="view_cart", items=[], currency="USD", value_minor=0, utm_source=" "),
        event(
            3, clock, event_name="add_payment_info", payment_type="card", shipping_tier="", coupon="SPRING"
        ),
        event(4, clock, timestamp=(clock.now() - timedelta(hours=71)).isoformat()),
    ]
    assert ingest_frames(writer, batch) == {"received": 4, "inserted": 4, "duplicates": 0}
    assert ingest(twin, batch) == {"received": 4, "inserted": 4, "duplicates": 0}
    for sql in TABLE_COLUMNS:
        assert db_rows(writer, sql) == db_rows(twin, sql)
    assert db_rows(writer, "select count(*) from storefront_event_items") == [(6,)]


def test_duplicates_within_a_frame_across_calls_and_against_the_per_event_path_are_ignored(
    writer: Writer, clock: ManualClock
) -> None:
    upper = event(1, clock, event_id=str(uuid.UUID(int=1)).upper())
    assert ingest_frames(writer, [event(1, clock), upper, event(2, clock)]) == {
        "received": 3,
        "inserted": 2,
        "duplicates": 1,
    }
    assert ingest_frames(writer, [event(2, clock), event(3, clock)])["inserted"] == 1
    assert ingest(writer, [event(3, clock), event(4, clock)])["inserted"] == 1
    assert ingest_frames(writer, [event(4, clock), event(5, clock)]) == {
        "received": 2,
        "inserted": 1,
        "duplicates": 1,
    }
    assert stored_ids(writer) == ids(1, 2, 3, 4, 5)
    assert db_rows(writer, "select count(*) from storefront_event_items") == [(10,)]


def test_commands_of_one_batch_dedupe_against_each_other(writer: Writer, clock: ManualClock) -> None:
    first_frames = frames([event(1, clock), event(2, clock)])
    with running(writer):
        with one_batch(writer):
            first = submit(writer, lambda uow: svc.ingest_frames(uow, *first_frames))
            second = submit(writer, lambda uow: svc.ingest_events(uow, [event(2, clock), event(3, clock)]))
        assert first.result(10).body["inserted"] == 2
        assert second.result(10).body == {"received": 2, "inserted": 1, "duplicates": 1}
    assert stored_ids(writer) == ids(1, 2, 3)


def test_an_invalid_row_rejects_the_whole_frame_and_stores_nothing(
    writer: Writer, clock: ManualClock
) -> None:
    batch = [
        event(1, clock),
        event(2, clock, event_name="purchase"),
        event(3, clock, utm_campaign=f"x {PAN}"),
        event(4, clock, timestamp=(clock.now() + timedelta(minutes=6)).isoformat()),
    ]
    with pytest.raises(Invalid) as err:
        ingest_frames(writer, batch)
    assert err.value.code == "invalid_events"
    assert [(b["index"], b["code"]) for b in err.value.extra["bad"]] == [
        (1, "server_only_event"),
        (2, "card_data_rejected"),
        (3, "timestamp_in_future"),
    ]
    assert err.value.extra["bad_count"] == 3
    assert stored_ids(writer) == []
    # Nothing was claimed either.
    assert ingest_frames(writer, [event(1, clock), event(3, clock)])["inserted"] == 2


def test_a_frame_rolled_back_and_rerun_leaves_no_id_claimed(
    writer: Writer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Writer._write

    def reject_poison(self: Writer, table: str, op: str, rows: list[dict[str, Any]]) -> None:
        real(self, table, op, rows)
        if any(r.get("name") == "POISON" for r in rows):
            raise duckdb.ConstraintException("simulated constraint failure")

    poisoned_frames = frames([event(2, clock), event(3, clock)])

    def poisoned(uow: UnitOfWork) -> Any:
        svc.ingest_frames(uow, *poisoned_frames)
        return warehouse("P2", name="POISON")(uow)

    good_frames = frames([event(1, clock), event(2, clock)])
    late_frames = frames([event(3, clock)])
    monkeypatch.setattr(Writer, "_write", reject_poison)
    with running(writer):
        with one_batch(writer):
            good = submit(writer, lambda uow: svc.ingest_frames(uow, *good_frames))
            bad = submit(writer, poisoned)
            late = submit(writer, lambda uow: svc.ingest_frames(uow, *late_frames))
        assert good.result(10).body["inserted"] == 2
        with pytest.raises(Exception, match="could not commit"):
            bad.result(10)
        # In the first run id 3 was claimed by the poisoned command; re-run alone, it is new.
        assert late.result(10).body["inserted"] == 1
    assert writer.stats["rollbacks"] == 2
    assert stored_ids(writer) == ids(1, 2, 3)
    assert db_rows(writer, "select count(*) from storefront_event_items") == [(6,)]


def test_a_server_event_staged_in_the_same_batch_is_written_with_the_frames(
    writer: Writer, clock: ManualClock
) -> None:
    """Blocks of Python lists (the per-event path) and of polars columns go into one insert."""
    frame_pair = frames([event(1, clock)])
    with running(writer):
        with one_batch(writer):
            a = submit(writer, lambda uow: svc.ingest_events(uow, [event(2, clock)]))
            b = submit(writer, lambda uow: svc.ingest_frames(uow, *frame_pair))
        assert a.result(10).body["inserted"] == 1 and b.result(10).body["inserted"] == 1
    assert stored_ids(writer) == ids(1, 2)
    assert db_rows(writer, "select count(distinct commit_seq), count(*) from storefront_event_items") == [
        (1, 4)
    ]


def test_an_empty_frame_stores_nothing(writer: Writer, clock: ManualClock) -> None:
    assert ingest_frames(writer, []) == {"received": 0, "inserted": 0, "duplicates": 0}
    assert stored_ids(writer) == []
