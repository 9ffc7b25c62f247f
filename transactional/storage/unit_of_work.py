"""The unit of work a service runs in: one command's layer within the writer's batch.

Services read through it, stage changes on it and never commit: the writer
commits the whole batch at once (DESIGN.md, "The write path").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import orjson

from transactional.domain.access import Actor
from transactional.domain.errors import NotFound
from transactional.domain.ids import IdGenerator
from transactional.storage.recent_ids import BUCKET_SECONDS, bucket_of, id_key
from transactional.storage.state import Key, Layer, Row
from transactional.storage.tables import RECENT_IDS, TABLES


class UnitOfWork:
    def __init__(
        self,
        layer: Layer,
        *,
        now: datetime,
        ids: IdGenerator,
        actor: Actor,
        request_id: str | None,
        columns: Mapping[str, frozenset[str]],
    ) -> None:
        self._layer = layer
        self.now = now
        self.ids = ids
        self.actor = actor
        self.request_id = request_id
        self._columns = columns

    # -- reads ---------------------------------------------------------------
    def get(self, table: str, *key: Any) -> Row | None:
        return self._layer.get(table, tuple(key))

    def require(self, table: str, *key: Any, code: str | None = None, what: str | None = None) -> Row:
        row = self._layer.get(table, tuple(key))
        if row is None:
            noun = what or table.rstrip("s").replace("_", " ")
            raise NotFound(
                f"{noun} {'/'.join(map(str, key))} does not exist",
                code=code or f"{noun.replace(' ', '_')}_not_found",
            )
        return row

    def lookup(self, table: str, column: str, value: Any) -> list[Row]:
        return self._layer.lookup(table, column, value)

    def scan(self, table: str) -> Iterator[Row]:
        """All rows of a table whose rows are all in memory: fully resident tables, and
        windows that never read misses from the database (their window is complete)."""
        spec = TABLES[table]
        if spec.residency == "append" or (spec.residency == "window" and spec.miss_reads_db):
            raise ValueError(f"{table} is not fully resident; use lookup")
        return self._layer.scan(table)

    @property
    def store(self) -> Row:
        rows = list(self._layer.scan("store"))
        if not rows:
            raise NotFound("the store has not been initialised", code="store_not_initialised")
        return rows[0]

    # -- writes --------------------------------------------------------------
    def _check_columns(self, table: str, row: Mapping[str, Any]) -> None:
        expected = self._columns[table]
        if row.keys() != expected:
            missing = sorted(expected - row.keys())
            extra = sorted(row.keys() - expected)
            raise ValueError(f"{table}: row columns differ (missing {missing}, unknown {extra})")

    def insert(self, table: str, row: dict[str, Any]) -> Row:
        spec = TABLES[table]
        self._check_columns(table, row)
        frozen = MappingProxyType(dict(row))
        if spec.residency == "append":
            self._layer.append(table, frozen)
        else:
            self._layer.stage(table, tuple(row[c] for c in spec.key), "insert", frozen)
        return frozen

    def append_columns(self, table: str, columns: dict[str, Any]) -> int:
        """Stage rows of an append-only table column-wise, one list per column; returns the row count.

        The bulk path for journals written hundreds of rows at a time: no dict per
        row here, and the writer turns the lists straight into Arrow arrays. A
        column may also be an Arrow-exportable array (a polars Series), which the
        writer takes without a Python object per value (the demo's millions of events).
        """
        if TABLES[table].residency != "append":
            raise ValueError(f"{table} is not append-only")
        if columns.keys() != self._columns[table]:
            self._check_columns(table, columns)
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"{table}: columns differ in length")
        n = lengths.pop()
        if n:
            self._layer.append_block(table, columns)
        return n

    def claim_id(self, table: str, row_id: str, at: datetime) -> bool:
        """True the first time ``row_id`` (a UUID) is offered for ``table``: the caller stores the row.

        False if a committed row, an earlier command of the batch or this command
        already has it. A claim is forgotten with its command if that fails; it is
        remembered once committed for as long as ``at`` is in the window (recent_ids.py).
        """
        if table not in RECENT_IDS:
            raise ValueError(f"{table} is not deduplicated on an id")
        return self._layer.claim(table, id_key(row_id), bucket_of(at))

    def claim_ids(self, table: str, row_ids: Sequence[str], at_epoch_seconds: Sequence[int]) -> list[bool]:
        """``claim_id`` for many ids at once, in order, with each event time as Unix seconds.

        Same answers and the same commit semantics as claiming one by one (a repeat
        within ``row_ids`` is not fresh), at set speed: bulk ingest claims millions.
        """
        if table not in RECENT_IDS:
            raise ValueError(f"{table} is not deduplicated on an id")
        keys = [id_key(row_id) for row_id in row_ids]
        return self._layer.claim_many(table, keys, [int(s) // BUCKET_SECONDS for s in at_epoch_seconds])

    def update(self, table: str, key: Key | Any, **changes: Any) -> Row:
        spec = TABLES[table]
        key = key if isinstance(key, tuple) else (key,)
        current = self.require(table, *key)
        unknown = changes.keys() - current.keys()
        if unknown or any(c in spec.key for c in changes):
            raise ValueError(f"{table}: cannot set {sorted(unknown) or 'key columns'}")
        row = MappingProxyType({**current, **changes})
        self._layer.stage(table, key, "update", row)
        return row

    def delete(self, table: str, key: Key) -> None:
        self.require(table, *key)
        self._layer.stage(table, key, "delete", None)

    def new_id(self, prefix: str) -> str:
        return self.ids.new(prefix, at=self.now)

    def audit(self, action: str, target_type: str, target_id: str | None, **details: Any) -> None:
        """Record an admin action or a money/stock movement with who did it and the request id."""
        self.insert(
            "audit_log",
            {
                "audit_id": self.new_id("aud"),
                "occurred_at": self.now,
                "actor_key_id": self.actor.key_id,
                "actor_role": self.actor.role,
                "action": action,
                "target_type": target_type,
                "target_id": target_id,
                "request_id": self.request_id,
                "details_json": orjson.dumps(details, default=str).decode() if details else None,
            },
        )
