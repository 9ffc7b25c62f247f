"""The bounded window of recent event ids and the layers' claims on it (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from transactional.storage.recent_ids import BUCKET_SECONDS, RETENTION, RecentIds, bucket_of, id_key
from transactional.storage.state import HotState, Layer

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TABLE = "storefront_events"


def key(n: int) -> int:
    return id_key(str(uuid.UUID(int=n)))


def test_id_key_ignores_case_and_dashes() -> None:
    u = uuid.uuid4()
    assert id_key(str(u)) == id_key(str(u).upper()) == u.int


def test_bucket_is_the_hour_of_the_event_time() -> None:
    assert bucket_of(T0) == bucket_of(T0.replace(minute=0)) == bucket_of(T0.replace(minute=59))
    assert bucket_of(T0 + timedelta(hours=1)) == bucket_of(T0) + 1
    assert bucket_of(T0.astimezone(datetime.now().astimezone().tzinfo)) == bucket_of(T0)


def test_retention_covers_every_time_a_client_may_still_send() -> None:
    # An id may be dropped only when no copy with its timestamp can be accepted any more:
    # newest time seen <= now + 5 min, so keeping `retention` behind the newest keeps 72 h.
    assert RETENTION >= timedelta(hours=72, minutes=5)


def test_ids_are_kept_within_the_window_and_dropped_after_it() -> None:
    ids = RecentIds()
    ids.add({key(1): bucket_of(T0), key(2): bucket_of(T0 + timedelta(hours=1))})
    assert key(1) in ids and key(2) in ids and key(3) not in ids
    ids.add({key(3): bucket_of(T0 + RETENTION)})
    assert key(1) in ids  # its hour is still within the retention of the newest time
    ids.add({key(4): bucket_of(T0 + RETENTION + timedelta(hours=2))})
    assert key(1) not in ids and key(2) in ids
    assert len(ids) == 3


def test_an_id_seen_again_later_lives_on_in_its_later_hour() -> None:
    ids = RecentIds(timedelta(hours=2))
    ids.add({key(1): bucket_of(T0)})
    ids.add({key(1): bucket_of(T0 + timedelta(hours=2))})
    ids.add({key(2): bucket_of(T0 + timedelta(hours=4))})
    assert key(1) in ids  # the first hour was dropped, the later one holds it
    ids.add({key(3): bucket_of(T0 + timedelta(hours=5))})
    assert key(1) not in ids


def test_old_times_never_prune_newer_ones_and_memory_follows_the_window() -> None:
    ids = RecentIds(timedelta(hours=3))
    for hour in range(100):
        ids.add({key(hour * 1000 + n): bucket_of(T0) + hour for n in range(10)})
    assert len(ids) == 10 * 4  # the newest hour and the 3 before it
    ids.add({key(10**6): bucket_of(T0)})  # late, in an hour already dropped: kept until next prune
    assert key(99_000) in ids


def test_load_takes_stored_rows_as_id_and_bucket() -> None:
    ids = RecentIds()
    event_id = str(uuid.UUID(int=5))
    ids.load([(event_id, bucket_of(T0)), (event_id.upper(), bucket_of(T0) - 1)])
    assert id_key(event_id) in ids and len(ids) == 1
    assert BUCKET_SECONDS == 3600


def test_claims_are_seen_by_later_commands_and_committed_only_with_their_batch() -> None:
    state = HotState()
    batch = Layer(state)
    first, second = Layer(batch), Layer(batch)
    assert first.claim(TABLE, key(1), 0) is True
    assert first.claim(TABLE, key(1), 0) is False  # again in the same command
    first.merge_into_parent()
    assert second.claim(TABLE, key(1), 0) is False  # an earlier command of the batch has it
    assert second.claim(TABLE, key(2), 0) is True
    # The second command fails: its layer is dropped, its claim with it.
    assert batch.has_seen(TABLE, key(2)) is False
    assert state.has_seen(TABLE, key(1)) is False  # nothing committed yet
    state.apply(batch)
    assert state.has_seen(TABLE, key(1)) is True
    assert state.has_seen(TABLE, key(2)) is False


def test_a_rolled_back_batch_leaves_no_claim() -> None:
    state = HotState()
    batch = Layer(state)
    command = Layer(batch)
    command.claim(TABLE, key(1), 0)
    command.merge_into_parent()
    # The flush fails: the writer drops the batch layer and re-runs the commands on new ones.
    assert Layer(Layer(state)).claim(TABLE, key(1), 0) is True


@given(
    late=st.integers(0, 72 * 3600),
    ahead=st.integers(0, 300),
    second=st.integers(0, BUCKET_SECONDS - 1),
)
def test_property_an_id_is_kept_while_a_copy_of_its_event_can_still_be_accepted(
    late: int, ahead: int, second: int
) -> None:
    event_at = T0 + timedelta(seconds=second)
    now = event_at + timedelta(seconds=late)  # the copy is at most 72 h old: accepted
    ids = RecentIds()
    ids.add({key(1): bucket_of(event_at)})
    ids.add({key(2): bucket_of(now + timedelta(seconds=ahead))})  # the newest time a client may send
    assert key(1) in ids
