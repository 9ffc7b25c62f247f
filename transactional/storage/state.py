"""The writer's in-memory view of the store: committed rows plus staged layers.

``HotState`` holds committed rows (see tables.py for which). A ``Layer`` stages
inserts, updates and deletes over a parent (the state, or another layer): a
batch is a layer over the state and each command a layer over its batch, so a
command that fails is dropped whole and later commands in the batch see what
earlier ones staged. Rows are handed out read-only; changing one means
staging an update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

from transactional.storage.recent_ids import RecentIds
from transactional.storage.tables import CHILDREN, RECENT_IDS, TABLES, TableSpec

Row = Mapping[str, Any]
Key = tuple[Any, ...]
Op = Literal["insert", "update", "delete"]


def key_of(spec: TableSpec, row: Mapping[str, Any]) -> Key:
    return tuple(row[c] for c in spec.key)


_INDEXED: dict[str, tuple[str, ...]] = {
    name: tuple(dict.fromkeys((*spec.indexes, *((spec.parent[1],) if spec.parent else ()))))
    for name, spec in TABLES.items()
}


def _indexed_columns(table: str) -> tuple[str, ...]:
    return _INDEXED[table]


class HotTable:
    __slots__ = ("spec", "rows", "index")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.rows: dict[Key, Row] = {}
        self.index: dict[str, dict[Any, set[Key]]] = {c: {} for c in spec.indexes}
        if spec.parent is not None and spec.parent[1] not in self.index:
            self.index[spec.parent[1]] = {}

    def put(self, row: Row) -> None:
        key = key_of(self.spec, row)
        old = self.rows.get(key)
        for col, idx in self.index.items():
            if old is not None and old[col] != row[col]:
                idx.get(old[col], set()).discard(key)
            idx.setdefault(row[col], set()).add(key)
        self.rows[key] = row

    def remove(self, key: Key) -> None:
        old = self.rows.pop(key, None)
        if old is not None:
            for col, idx in self.index.items():
                idx.get(old[col], set()).discard(key)


RowLoader = Callable[[TableSpec, str, Any], list[dict[str, Any]]]


class HotState:
    """Committed rows. Only the writer thread changes it, and only after a commit."""

    def __init__(self, loader: RowLoader | None = None) -> None:
        self.tables = {name: HotTable(spec) for name, spec in TABLES.items() if spec.residency != "append"}
        self._loader = loader
        self.commit_seq = 0
        # Ids of recently stored rows of deduplicated journals (recent_ids.py), by table.
        self.recent_ids = {table: RecentIds() for table in RECENT_IDS}

    def load(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        hot = self.tables[table]
        for row in rows:
            hot.put(MappingProxyType(dict(row)))

    def get(self, table: str, key: Key) -> Row | None:
        hot = self.tables[table]
        row = hot.rows.get(key)
        if row is None and hot.spec.residency == "window" and hot.spec.miss_reads_db:
            row = self._load_missing(hot, key)
        return row

    def _load_missing(self, hot: HotTable, key: Key) -> Row | None:
        if self._loader is None or len(hot.spec.key) != 1:
            return None
        found = self._loader(hot.spec, hot.spec.key[0], key[0])
        if not found:
            return None
        if hot.spec.parent is not None:
            # Load a child through its parent, so the parent's children stay complete together.
            parent_table, fk = hot.spec.parent
            if self.get(parent_table, (found[0][fk],)) is not None:
                return hot.rows.get(key)
        self.load(hot.spec.name, found)
        # Children come with their parent so that lookups by parent are complete.
        for child in CHILDREN.get(hot.spec.name, ()):
            self.load(child.name, self._loader(child, child.parent[1], key[0]))  # type: ignore[index]
        return hot.rows.get(key)

    def lookup(self, table: str, column: str, value: Any) -> list[Row]:
        hot = self.tables[table]
        keys = hot.index[column].get(value, ())
        return [hot.rows[k] for k in keys]

    def scan(self, table: str) -> Iterator[Row]:
        return iter(list(self.tables[table].rows.values()))

    def has_seen(self, table: str, key: int) -> bool:
        return key in self.recent_ids[table]

    def seen_among(self, table: str, keys: set[int]) -> set[int]:
        return self.recent_ids[table].among(keys)

    def apply(self, layer: Layer) -> None:
        """Make a committed layer's changes part of the state."""
        for table, claims in layer.claims.items():
            self.recent_ids[table].add(claims)
        evicted: list[tuple[HotTable, Key]] = []
        for table, changes in layer.changes.items():
            hot = self.tables.get(table)
            if hot is None:
                continue
            evict = hot.spec.evict_when
            for key, (op, row) in changes.items():
                if op == "delete":
                    hot.remove(key)
                elif evict is not None and evict(row):  # type: ignore[arg-type]
                    evicted.append((hot, key))
                else:
                    hot.put(row)  # type: ignore[arg-type]
        # Evict last: children staged in the same layer (an order placed and closed in one
        # batch) may come after their parent and must not stay behind in memory.
        for hot, key in evicted:
            self._evict(hot, key)

    def _evict(self, hot: HotTable, key: Key) -> None:
        hot.remove(key)
        for child in CHILDREN.get(hot.spec.name, ()):
            child_hot = self.tables[child.name]
            for child_key in list(child_hot.index[child.parent[1]].get(key[0], ())):  # type: ignore[index]
                child_hot.remove(child_key)


class Layer:
    """Staged changes over a parent view. Reads see the parent plus what is staged here."""

    def __init__(self, parent: HotState | Layer) -> None:
        self.parent = parent
        self.changes: dict[str, dict[Key, tuple[Op, Row | None]]] = {}
        self.appends: dict[str, list[Row]] = {}
        # Append-only rows staged column-wise ({column: values}), for bulk journals; values are
        # a list or an Arrow-exportable array (a polars Series).
        self.blocks: dict[str, list[dict[str, Any]]] = {}
        # Ids claimed for deduplicated journals: table -> {id key: time bucket}.
        self.claims: dict[str, dict[int, int]] = {}
        # Staged keys by indexed column value, so a lookup costs what it finds, not the
        # size of the batch. Entries may be stale; lookups re-check the staged row.
        self._index: dict[tuple[str, str], dict[Any, set[Key]]] = {}

    def get(self, table: str, key: Key) -> Row | None:
        staged = self.changes.get(table)
        if staged is not None:
            change = staged.get(key)
            if change is not None:
                return change[1]
        return self.parent.get(table, key)

    def lookup(self, table: str, column: str, value: Any) -> list[Row]:
        staged = self.changes.get(table)
        if not staged:
            return self.parent.lookup(table, column, value)  # the common case: nothing staged here
        spec = TABLES[table]
        found: dict[Key, Row] = {}
        for row in self.parent.lookup(table, column, value):
            key = key_of(spec, row)
            if key not in staged:
                found[key] = row
        for key in self._index.get((table, column), {}).get(value, ()):
            change = staged.get(key)
            if change is not None and change[1] is not None and change[1][column] == value:
                found[key] = change[1]
        return list(found.values())

    def scan(self, table: str) -> Iterator[Row]:
        if not self.changes.get(table):
            return self.parent.scan(table)
        spec = TABLES[table]
        found: dict[Key, Row] = {key_of(spec, r): r for r in self.parent.scan(table)}
        for key, (_, row) in self.changes.get(table, {}).items():
            if row is None:
                found.pop(key, None)
            else:
                found[key] = row
        return iter(list(found.values()))

    def stage(self, table: str, key: Key, op: Op, row: Row | None) -> None:
        staged = self.changes.setdefault(table, {})
        previous = staged.get(key)
        if previous is not None and previous[0] == "insert":
            if op == "delete":
                del staged[key]  # inserted and deleted within the layer: nothing to write
                return
            op = "insert"  # several writes of a new row collapse into one insert
        elif previous is not None and previous[0] == "delete" and op == "insert":
            op = "update"  # the row exists in the database: replacing it is an update
        staged[key] = (op, row)
        if row is not None:
            for column in _indexed_columns(table):
                self._index.setdefault((table, column), {}).setdefault(row[column], set()).add(key)

    def append(self, table: str, row: Row) -> None:
        self.appends.setdefault(table, []).append(row)

    def append_block(self, table: str, columns: dict[str, Any]) -> None:
        self.blocks.setdefault(table, []).append(columns)

    def has_seen(self, table: str, key: int) -> bool:
        claims = self.claims.get(table)
        if claims is not None and key in claims:
            return True
        return self.parent.has_seen(table, key)

    def claim(self, table: str, key: int, bucket: int) -> bool:
        """Mark ``key`` as seen in this layer; False if it was already seen (here, below or committed)."""
        if self.has_seen(table, key):
            return False
        self.claims.setdefault(table, {})[key] = bucket
        return True

    def seen_among(self, table: str, keys: set[int]) -> set[int]:
        """The ``keys`` already seen here, below or committed (``has_seen`` for many keys)."""
        claims = self.claims.get(table)
        here = {key for key in keys if key in claims} if claims else set()
        return here | self.parent.seen_among(table, keys - here if here else keys)

    def claim_many(self, table: str, keys: Sequence[int], buckets: Sequence[int]) -> list[bool]:
        """``claim`` for each key in order, in one pass (a repeat within ``keys`` is not fresh)."""
        seen = self.seen_among(table, set(keys))
        claims = self.claims.setdefault(table, {})
        fresh: list[bool] = []
        for key, bucket in zip(keys, buckets, strict=True):
            if key in seen:
                fresh.append(False)
            else:
                seen.add(key)
                claims[key] = bucket
                fresh.append(True)
        return fresh

    def merge_into_parent(self) -> None:
        parent = self.parent
        assert isinstance(parent, Layer)
        for table, changes in self.changes.items():
            for key, (op, row) in changes.items():
                parent.stage(table, key, op, row)
        for table, rows in self.appends.items():
            parent.appends.setdefault(table, []).extend(rows)
        for table, blocks in self.blocks.items():
            parent.blocks.setdefault(table, []).extend(blocks)
        for table, claims in self.claims.items():
            parent.claims.setdefault(table, {}).update(claims)

    def is_empty(self) -> bool:
        # Claims come with the rows they dedupe; without rows there is nothing to remember.
        return not self.changes and not self.appends and not self.blocks
