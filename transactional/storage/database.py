"""Opening the store file: the lock file, connection settings and migrations."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from transactional.domain.errors import Conflict

STORE_FILE = "store.duckdb"
LOCK_FILE = "store.lock"


class StoreLocked(Conflict):
    default_code = "store_locked"


@dataclass
class StoreLock:
    """An exclusive advisory lock on the data dir, held by the server or by one offline command.

    DuckDB's own file lock would also refuse a second opener, but with an
    error that names a PID, not the reason; this lock says which one holds it.
    """

    path: Path
    _fd: int | None = None

    def acquire(self, holder: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreLocked(
                f"the store in {self.path.parent} is in use by {held_by}; "
                "stop it first or use the API of the running server"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder} (pid {os.getpid()})\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """Open the store read-write. The caller must hold the StoreLock."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(data_dir / STORE_FILE))
    con.execute("set TimeZone = 'UTC'")
    return con


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply numbered migrations not yet recorded in schema_migrations; return their names."""
    con.execute(
        "create table if not exists schema_migrations ("
        "version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied: list[str] = []
    folder = resources.files("transactional.storage") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        version = int(entry.name.split("_", 1)[0])
        if version in done:
            continue
        con.execute("begin")
        try:
            con.execute(entry.read_text())
            con.execute("insert into schema_migrations values (?, ?, now())", [version, entry.name])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(entry.name)
    return applied
