"""Fixtures on real DuckDB files in tmp dirs: a migrated store and its writer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from transactional.domain.access import Actor
from transactional.domain.clock import ManualClock
from transactional.domain.ids import IdGenerator
from transactional.services.store import create_store
from transactional.storage.database import connect, migrate
from transactional.storage.writer import Writer

ADMIN = Actor(role="admin", key_id="key_test_admin")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def open_writer(data_dir: Path, clock: ManualClock) -> Writer:
    con = connect(data_dir)
    migrate(con)
    return Writer(con, clock, IdGenerator(clock, seed=7))


@pytest.fixture
def writer(tmp_path: Path, clock: ManualClock) -> Iterator[Writer]:
    """A writer (not started: call writer.run) on a fresh USD, tax-exclusive store."""
    w = open_writer(tmp_path, clock)
    w.run(
        lambda uow: create_store(
            uow, name="Test Store", currency="USD", timezone="America/New_York", tax_mode="exclusive"
        ),
        ADMIN,
    )
    yield w
    w.con.close()
