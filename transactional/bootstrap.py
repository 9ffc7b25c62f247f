"""Composition root: settings → lock → store file → writer, and the reader connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import duckdb

from transactional.config import Settings
from transactional.domain.clock import Clock, SystemClock
from transactional.domain.ids import IdGenerator
from transactional.storage.database import LOCK_FILE, STORE_FILE, StoreLock, connect, migrate
from transactional.storage.writer import Writer


@dataclass
class Runtime:
    """Everything a process needs to serve the store; exactly one per data dir at a time."""

    settings: Settings
    clock: Clock
    ids: IdGenerator
    writer: Writer
    lock: StoreLock
    _reader_root: duckdb.DuckDBPyConnection | None = None
    _reader_lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one read request: sees committed data only (snapshot isolation)."""
        with self._reader_lock:
            if self._reader_root is None:
                self._reader_root = duckdb.connect(str(self.settings.data_dir / STORE_FILE))
                self._reader_root.execute("set TimeZone = 'UTC'")
            cur = self._reader_root.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self.writer.stop()
        if self._reader_root is not None:
            self._reader_root.close()
        self.writer.con.close()
        self.lock.release()


def open_runtime(
    settings: Settings,
    *,
    holder: str,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Runtime:
    """Take the data dir's lock, open and migrate the store, load the writer's state."""
    clock = clock or SystemClock()
    lock = StoreLock(settings.data_dir / LOCK_FILE)
    lock.acquire(holder)
    try:
        con = connect(settings.data_dir)
        migrate(con)
        writer = Writer(
            con,
            clock,
            ids or IdGenerator(clock),
            max_batch=settings.max_batch,
            idempotency_retention=timedelta(hours=settings.idempotency_retention_hours),
        )
    except BaseException:
        lock.release()
        raise
    return Runtime(settings=settings, clock=clock, ids=writer.ids, writer=writer, lock=lock)
