"""The serial writer: one thread runs every write command and commits them in batches.

Each batch: run the queued commands in order, each in its own layer over the
batch (a command that raises is dropped whole); write what the batch staged
with one bulk statement per table and operation (never executemany); commit
once; only then answer each caller. If SQL still fails, roll back and re-run
the batch's commands one by one so only the offender fails (DuckDB has no
savepoints, and a COMMIT after an error silently rolls back).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from transactional.domain.access import Actor
from transactional.domain.clock import Clock
from transactional.domain.errors import Conflict, DomainError
from transactional.domain.ids import IdGenerator
from transactional.storage.reads import fetch_dicts
from transactional.storage.recent_ids import BUCKET_SECONDS, RETENTION
from transactional.storage.state import HotState, Layer
from transactional.storage.tables import CHILDREN, RECENT_IDS, TABLES, TableSpec
from transactional.storage.unit_of_work import UnitOfWork

log = logging.getLogger("emporium.writer")
RUN_MANY_BATCH = 5_000

ServiceFn = Callable[[UnitOfWork], Any]
# Commits slower than this are logged: they stall every caller in the batch.
SLOW_COMMIT_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """An Idempotency-Key, scoped per API key and route, with a hash of the request body."""

    api_key_id: str
    route: str
    key: str
    request_sha256: str

    @staticmethod
    def of(api_key_id: str, route: str, key: str, body: bytes) -> IdempotencyClaim:
        return IdempotencyClaim(api_key_id, route, key, hashlib.sha256(body).hexdigest())


@dataclass(slots=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


@dataclass(slots=True)
class Command:
    fn: ServiceFn
    actor: Actor
    request_id: str | None = None
    idempotency: IdempotencyClaim | None = None
    success_status: int = 200
    # The command's instant, for a simulation replaying history (demo build); None: the clock's now.
    at: datetime | None = None
    future: Future[Outcome] = field(default_factory=Future)


class InternalError(DomainError):
    kind = "conflict"
    default_code = "internal_error"


class ShuttingDown(DomainError):
    kind = "conflict"
    default_code = "shutting_down"


_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
}


def _arrow_type(duck_type: str) -> pa.DataType:
    if duck_type.startswith("DECIMAL"):
        precision, scale = duck_type[8:-1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return _ARROW_TYPES[duck_type]


class Writer:
    """Owns the store connection for writing. Start it (server) or call run() directly (offline)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        clock: Clock,
        ids: IdGenerator,
        *,
        max_batch: int = 256,
        idempotency_retention: timedelta = timedelta(hours=48),
    ) -> None:
        self.con = con
        self.clock = clock
        self.ids = ids
        self.max_batch = max_batch
        self.idempotency_retention = idempotency_retention
        self._queue: queue.SimpleQueue[Command | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._schemas: dict[str, pa.Schema] = {}
        self.columns: dict[str, frozenset[str]] = {}
        self.state = HotState(loader=self._load_rows)
        self.stats: dict[str, float] = {"batches": 0, "commands": 0, "rollbacks": 0, "flush_seconds": 0.0}
        self._read_schemas()
        self._load_state()
        self._begin_pending = False
        self._warm_up()

    # -- start-up -----------------------------------------------------------
    def _read_schemas(self) -> None:
        cols: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in self.con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'main' order by table_name, ordinal_position"
        ).fetchall():
            cols.setdefault(table, []).append((column, dtype))
        for name in TABLES:
            fields = cols[name]
            self._schemas[name] = pa.schema([(c, _arrow_type(t)) for c, t in fields])
            self.columns[name] = frozenset(c for c, _ in fields if c != "commit_seq")

    def _select(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return fetch_dicts(self.con, sql, params)

    def _load_rows(self, spec: TableSpec, column: str, value: Any) -> list[dict[str, Any]]:
        return self._select(f"select * exclude (commit_seq) from {spec.name} where {column} = ?", [value])

    def _warm_up(self) -> None:
        """DuckDB imports pandas the first time it scans an Arrow table (about a second):
        pay that at start, not on the first order."""
        empty = pa.table({"x": pa.array([], pa.int64())})  # noqa: F841 - read by DuckDB by name
        self.con.execute("select count(*) from empty").fetchone()

    def _load_state(self) -> None:
        now = self.clock.now()
        params = {"idempotency_cutoff": now - self.idempotency_retention}
        # Keys past retention are forgotten here and in memory alike (see run_due).
        self.con.execute("delete from idempotency_keys where created_at < ?", [params["idempotency_cutoff"]])
        for spec in TABLES.values():
            if spec.residency == "append" or spec.parent is not None:
                continue
            where = f" where {spec.window_sql}" if spec.residency == "window" and spec.window_sql else ""
            args = [params[p] for p in spec.window_params]
            self.state.load(
                spec.name, self._select(f"select * exclude (commit_seq) from {spec.name}{where}", args)
            )
            for child in CHILDREN.get(spec.name, ()):
                fk = child.parent[1]  # type: ignore[index]
                parent_key = spec.key[0]
                sub = f"select {parent_key} from {spec.name}{where}"
                self.state.load(
                    child.name,
                    self._select(
                        f"select * exclude (commit_seq) from {child.name} where {fk} in ({sub})", args
                    ),
                )
        for table, (id_column, time_column) in RECENT_IDS.items():
            # Ids of rows still inside the dedupe window; time buckets computed by DuckDB.
            recent = self.con.execute(
                f"select {id_column}, floor(epoch({time_column}) / ?)::bigint from {table} "
                f"where {time_column} >= ?",
                [BUCKET_SECONDS, now - RETENTION],
            ).fetchall()
            self.state.recent_ids[table].load(recent)
        row = self.con.execute("select coalesce(max(commit_seq), 0) from commits").fetchone()
        self.state.commit_seq = int(row[0]) if row else 0
        # A seeded generator reopened at the same instant would repeat ids already stored.
        self.ids.reseed(self.state.commit_seq)

    # -- running commands ------------------------------------------------------
    def start(self) -> None:
        self._accepting = True
        self._thread = threading.Thread(target=self._loop, name="emporium-writer", daemon=True)
        self._thread.start()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, command: Command) -> Future[Outcome]:
        if not self._accepting:
            command.future.set_exception(ShuttingDown("the server is shutting down; retry shortly"))
        else:
            self._queue.put(command)
        return command.future

    def stop(self) -> None:
        """Stop accepting, run everything already queued, commit, and end the thread."""
        self._accepting = False
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            batches = self.stats["batches"] or 1
            log.info(
                "writer stopped: %d commands in %d batches (%.1f per batch), %.1f ms per commit, %d rollbacks",
                self.stats["commands"],
                self.stats["batches"],
                self.stats["commands"] / batches,
                self.stats["flush_seconds"] * 1e3 / batches,
                self.stats["rollbacks"],
            )

    def run(self, fn: ServiceFn, actor: Actor, **kw: Any) -> Outcome:
        """Run one command synchronously in the caller's thread (offline admin commands, tests)."""
        if self._thread is not None:
            raise RuntimeError("the writer thread is running; submit() instead")
        command = Command(fn=fn, actor=actor, **kw)
        self._run_batch([command])
        return command.future.result()

    def run_many(self, commands: list[Command]) -> list[Outcome | BaseException]:
        """Run commands in order in the caller's thread and commit them together (the demo
        simulator's batches): each succeeds or fails alone, as in the writer thread's batches."""
        if self._thread is not None:
            raise RuntimeError("the writer thread is running; submit() instead")
        # Nobody waits for an answer here, so batches are as large as memory comfortably allows.
        for start in range(0, len(commands), RUN_MANY_BATCH):
            self._run_batch(commands[start : start + RUN_MANY_BATCH])
        results: list[Outcome | BaseException] = []
        for command in commands:
            error = command.future.exception()
            results.append(error if error is not None else command.future.result())
        return results

    def _loop(self) -> None:
        stop = False  # once the stop marker is seen, end as soon as the queue is empty
        while True:
            first = self._queue.get()
            batch: list[Command] = []
            stop = stop or first is None
            if first is not None:
                batch.append(first)
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    continue
                batch.append(nxt)
            if batch:
                self._run_batch(batch)
            if stop and self._queue.empty():
                return

    def _run_batch(self, batch: list[Command]) -> None:
        layer = Layer(self.state)
        results: list[Outcome | BaseException] = [self._run_one(cmd, layer) for cmd in batch]
        try:
            self._flush(layer, len(batch))
        except Exception:
            log.exception("batch of %d failed to commit; re-running commands one by one", len(batch))
            self._rollback()
            self.stats["rollbacks"] += 1
            if len(batch) > 1:
                for cmd in batch:
                    self._run_batch([cmd])
                return
            results = [InternalError("the store could not commit this request")]
        self.stats["batches"] += 1
        self.stats["commands"] += len(batch)
        for cmd, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                cmd.future.set_exception(result)
            else:
                cmd.future.set_result(result)

    def _run_one(self, cmd: Command, batch_layer: Layer) -> Outcome | BaseException:
        layer = Layer(batch_layer)
        uow = UnitOfWork(
            layer,
            now=cmd.at if cmd.at is not None else self.clock.now(),
            ids=self.ids,
            actor=cmd.actor,
            request_id=cmd.request_id,
            columns=self.columns,
        )
        claim = cmd.idempotency
        try:
            if claim is not None:
                stored = uow.get("idempotency_keys", claim.api_key_id, claim.route, claim.key)
                if stored is not None:
                    if stored["request_sha256"] != claim.request_sha256:
                        raise Conflict(
                            "this Idempotency-Key was already used with a different request body",
                            code="idempotency_key_reused",
                        )
                    return Outcome(
                        stored["status_code"], orjson.loads(stored["response_json"]), replayed=True
                    )
            body = cmd.fn(uow)
            if claim is not None:
                uow.insert(
                    "idempotency_keys",
                    {
                        "api_key_id": claim.api_key_id,
                        "route": claim.route,
                        "idempotency_key": claim.key,
                        "request_sha256": claim.request_sha256,
                        "status_code": cmd.success_status,
                        "response_json": orjson.dumps(body, default=str).decode(),
                        "created_at": uow.now,
                    },
                )
        except DomainError as exc:
            return exc
        except Exception as exc:
            log.exception("command failed with an unexpected error (request %s)", cmd.request_id)
            return InternalError(f"unexpected error: {type(exc).__name__}")
        layer.merge_into_parent()
        return Outcome(cmd.success_status, body)

    # -- flushing ------------------------------------------------------------
    def _flush(self, layer: Layer, n_commands: int) -> None:
        if layer.is_empty():
            return
        seq = self.state.commit_seq + 1
        started = time.perf_counter()
        self._begin_pending = True  # sent with the first statement: one call fewer
        for table, changes in layer.changes.items():
            by_op: dict[str, list[dict[str, Any]]] = {"insert": [], "update": [], "delete": []}
            for key, (op, row) in changes.items():
                if op == "delete":
                    by_op["delete"].append(dict(zip(TABLES[table].key, key, strict=True)))
                else:
                    by_op[op].append({**row, "commit_seq": seq})  # type: ignore[dict-item]
            self._write(table, "delete", by_op["delete"])
            self._write(table, "update", by_op["update"])
            self._write(table, "insert", by_op["insert"])
        for table, rows in layer.appends.items():
            self._write(table, "insert", [{**r, "commit_seq": seq} for r in rows])
        for table, blocks in layer.blocks.items():
            self._write_columns(table, blocks, seq)
        # One call for the journal row and the commit: each call into DuckDB waits for the
        # GIL on the way back, which under load costs more than the statement itself.
        committed_at = self.clock.now().isoformat()
        self._execute(
            f"insert into commits values ({int(seq)}, '{committed_at}'::timestamptz, {int(n_commands)}); commit"
        )
        self.state.commit_seq = seq
        self.state.apply(layer)
        elapsed = time.perf_counter() - started
        self.stats["flush_seconds"] += elapsed
        if elapsed > SLOW_COMMIT_SECONDS:
            n_rows = sum(len(c) for c in layer.changes.values()) + sum(len(a) for a in layer.appends.values())
            n_rows += sum(len(next(iter(b.values()))) for bs in layer.blocks.values() for b in bs)
            log.warning(
                "slow commit %d: %d commands, %d rows in %.0f ms", seq, n_commands, n_rows, elapsed * 1e3
            )
        else:
            log.debug("commit %d: %d commands in %.1f ms", seq, n_commands, elapsed * 1e3)

    def _write(self, table: str, op: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        spec = TABLES[table]
        schema = self._schemas[table]
        if op == "delete":
            schema = pa.schema([schema.field(c) for c in spec.key])
        rows = _in_utc(rows, _instant_columns(schema))
        # DuckDB reads the Arrow table through a replacement scan of this local
        # name; measured here, that is about twice as fast as register/unregister.
        staged = pa.Table.from_pylist(rows, schema=schema)
        if op == "insert":
            self._execute(f"insert into {table} by name select * from staged", staged=staged)
        elif op == "update":
            sets = ", ".join(f"{c} = s.{c}" for c in schema.names if c not in spec.key)
            on = " and ".join(f"t.{c} = s.{c}" for c in spec.key)
            self._execute(f"update {table} as t set {sets} from staged as s where {on}", staged=staged)
        else:
            on = " and ".join(f"{table}.{c} = s.{c}" for c in spec.key)
            self._execute(f"delete from {table} using staged as s where {on}", staged=staged)

    def _write_columns(self, table: str, blocks: list[dict[str, list[Any]]], seq: int) -> None:
        """Insert column-wise blocks (UnitOfWork.append_columns) with one statement: each column's
        values go straight into an Arrow array, with no dict per row on the way."""
        schema = self._schemas[table]
        names = [name for name in schema.names if name != "commit_seq"]
        arrays: list[pa.Array | pa.ChunkedArray] = []
        for name in names:
            column_type = schema.field(name).type
            chunks = [b[name] for b in blocks]
            if all(isinstance(chunk, list) for chunk in chunks):
                values = chunks[0] if len(chunks) == 1 else list(chain.from_iterable(chunks))
                if _is_instant(column_type):
                    values = [_utc(v) for v in values]
                arrays.append(pa.array(values, type=column_type))
            else:
                # Arrow-exportable columns (polars Series, via the Arrow stream protocol): cast in
                # Arrow, never a Python object per value.
                parts = [
                    pa.array([_utc(v) for v in c] if _is_instant(column_type) else c, type=column_type)
                    if isinstance(c, list)
                    else pa.chunked_array(c).cast(column_type)
                    for c in chunks
                ]
                arrays.append(
                    pa.chunked_array([a for p in parts for a in getattr(p, "chunks", [p])], column_type)
                )
        staged = pa.Table.from_arrays(arrays, names=names)
        self._execute(
            f"insert into {table} by name select *, {int(seq)}::bigint as commit_seq from staged",
            staged=staged,
        )

    def _execute(self, sql: str, staged: pa.Table | None = None) -> None:
        """Run one statement of a flush; the transaction's BEGIN rides along with the first.

        ``staged`` is not used in Python: DuckDB finds it by name in this frame."""
        if self._begin_pending:
            sql = "begin; " + sql
            self._begin_pending = False
        self.con.execute(sql)

    def _rollback(self) -> None:
        try:
            self.con.execute("rollback")
        except duckdb.Error:
            pass  # no transaction was open


# pyarrow turns an aware datetime in a zone other than UTC into the right instant, except
# in a process that has imported pandera's pandas typing (as the pipeline does): there it
# takes the wall time for UTC, hours off. Handing Arrow UTC datetimes only is right either way.
def _is_instant(column_type: pa.DataType) -> bool:
    return pa.types.is_timestamp(column_type) and column_type.tz is not None


def _instant_columns(schema: pa.Schema) -> tuple[str, ...]:
    return tuple(f.name for f in schema if _is_instant(f.type))


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None and value.tzinfo is not UTC:
        return value.astimezone(UTC)
    return value


def _in_utc(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows with every instant in UTC; rows that need no change are passed on as they are."""
    if not columns:
        return rows
    out = []
    for row in rows:
        changed = {}
        for c in columns:
            value = row.get(c)
            utc = _utc(value)
            if utc is not value:
                changed[c] = utc
        out.append({**row, **changed} if changed else row)
    return out
