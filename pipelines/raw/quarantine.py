"""Validate one lake snapshot against the raw schemas and quarantine the failing rows.

For each table, the rows of THIS snapshot are validated: the snapshot file of a mutable
table, and only the files this export added for a journal (earlier files were validated
by earlier snapshots; lake.py appends each export's files at the end of ``files`` and counts
them in ``files_added``). Pandera runs lazily (``lazy=True``) so every failure is collected.

Failing rows are copied to ``<lake>/_quarantine/<table>/snapshot-<commit_seq>.parquet``: the
row's original columns plus ``_check``, ``_column`` and ``_reason``, one row per (row, failed
check). The lake's own files are never touched; the pipeline's asset check fails on any
quarantined row and blocks what is downstream. Quarantine files of earlier snapshots stay as
evidence; the result reports only this snapshot's.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandera.errors as pe
import pandera.polars as pa
import polars as pl

from pipelines.raw.schemas import CHECK_COLUMNS, REASONS, SCHEMAS
from transactional.storage.tables import TABLES

QUARANTINE_DIR = "_quarantine"
META_COLUMNS = ("_check", "_column", "_reason")
_ROW = "_row"  # position of a row in the validated frame, pandera's failure ``index``


@dataclass(frozen=True, slots=True)
class TableValidation:
    table: str
    rows_checked: int
    rows_failed: int  # distinct rows with at least one failed check
    checks_run: int
    quarantine_file: Path | None
    elapsed_ms: float
    failures: dict[str, int] = field(default_factory=dict)  # check name -> failing rows

    @property
    def passed(self) -> bool:
        return self.rows_failed == 0


@dataclass(frozen=True, slots=True)
class SnapshotValidation:
    snapshot_id: str
    commit_seq: int
    tables: dict[str, TableValidation]
    elapsed_ms: float

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tables.values())

    @property
    def rows_checked(self) -> int:
        return sum(t.rows_checked for t in self.tables.values())

    @property
    def rows_failed(self) -> int:
        return sum(t.rows_failed for t in self.tables.values())


def snapshot_files(lake_dir: Path, entry: Mapping[str, Any], commit_seq: int) -> list[Path]:
    """The files holding this snapshot's rows of one table (manifest entry)."""
    if entry["kind"] == "snapshot":
        return [lake_dir / entry["file"]]
    added = int(entry.get("files_added", 0))
    files = entry["files"][-added:] if added else []
    # lake.py stamps an export's files with to_seq = its commit_seq; anything else means the
    # manifest is not the shape this code validates, and guessing would skip or repeat rows.
    stale = [f["path"] for f in files if int(f["to_seq"]) != commit_seq]
    if stale:
        raise ValueError(f"manifest lists added files not ending at commit_seq {commit_seq}: {stale}")
    return [lake_dir / f["path"] for f in files]


def quarantine_path(lake_dir: Path, table: str, commit_seq: int) -> Path:
    return lake_dir / QUARANTINE_DIR / table / f"snapshot-{commit_seq}.parquet"


def checks_in(schema: pa.DataFrameSchema) -> int:
    """How many checks ``schema`` runs: dtype, not-null and uniqueness count as checks too."""
    n = len(schema.checks) + (1 if schema.unique else 0)
    for column in schema.columns.values():
        n += 1 + (0 if column.nullable else 1) + (1 if column.unique else 0) + len(column.checks)
    return n


def validate_snapshot(lake_dir: Path, manifest: dict[str, Any]) -> SnapshotValidation:
    """Validate every table's rows of this snapshot; quarantine failures; report per table."""
    started = time.perf_counter()
    seq = int(manifest["commit_seq"])
    results: dict[str, TableValidation] = {}
    for table, entry in manifest["tables"].items():
        results[table] = validate_table(lake_dir, table, snapshot_files(lake_dir, entry, seq), seq)
    return SnapshotValidation(
        snapshot_id=str(manifest["snapshot_id"]),
        commit_seq=seq,
        tables=results,
        elapsed_ms=_ms(started),
    )


def validate_table(lake_dir: Path, table: str, files: list[Path], commit_seq: int) -> TableValidation:
    started = time.perf_counter()
    target = quarantine_path(lake_dir, table, commit_seq)
    schema = SCHEMAS[table]  # KeyError: a table the lake exports without a schema is a bug
    if not files:  # a journal with no new rows in this snapshot
        _discard(target)
        return TableValidation(table, 0, 0, 0, None, _ms(started))
    # hive_partitioning off: the day=... folder is not a column of the table
    frame = pl.scan_parquet(files, hive_partitioning=False).collect()
    failures = find_failures(schema, frame)
    if failures.is_empty():
        _discard(target)  # a re-validation of this snapshot that now passes
        return TableValidation(table, frame.height, 0, checks_in(schema), None, _ms(started))
    quarantined = (
        frame.with_row_index(_ROW)
        .join(failures, on=_ROW, how="inner")
        .sort(_ROW, "_check", "_column")
        .drop(_ROW)
    )
    _write_atomic(quarantined, target)
    counts = failures.group_by("_check").agg(pl.col(_ROW).n_unique()).rows()
    return TableValidation(
        table,
        frame.height,
        failures[_ROW].n_unique(),
        checks_in(schema),
        target,
        _ms(started),
        dict(sorted(counts)),
    )


def find_failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (row position, failed check): ``_row``, ``_check``, ``_column``, ``_reason``."""
    empty = pl.DataFrame(
        schema={_ROW: pl.UInt32, "_check": pl.String, "_column": pl.String, "_reason": pl.String}
    )
    try:
        schema.validate(frame, lazy=True)
    except pe.SchemaErrors as errors:
        cases = errors.failure_cases
    except pe.SchemaError as error:  # raised alone for some frame-level problems even when lazy
        cases = _single_case(error)
    else:
        return empty
    key = ",".join(TABLES[schema.name].key) if schema.name in TABLES else ""
    named = cases.select(
        pl.col("index").cast(pl.UInt32).alias(_ROW),
        # pandera names built-ins with arguments ("dtype('Int64')"); ours carry no parentheses
        pl.col("check").cast(pl.String).str.replace(r"\(.*$", "").alias("_check"),
        pl.col("check").cast(pl.String).alias("_detail"),
        pl.col("column").cast(pl.String),
        pl.col("schema_context").cast(pl.String),
        pl.col("failure_case").cast(pl.String),
    )
    reasons = pl.DataFrame(
        {"_check": list(REASONS), "_text": list(REASONS.values())},
        schema={"_check": pl.String, "_text": pl.String},
    )
    frame_columns = pl.DataFrame(
        {
            "_check": [*CHECK_COLUMNS, "multiple_fields_uniqueness"],
            "_frame_cols": [*CHECK_COLUMNS.values(), key],
        },
        schema={"_check": pl.String, "_frame_cols": pl.String},
    )
    is_frame_check = pl.col("schema_context") == "DataFrameSchema"
    missing = pl.col("_check") == "column_in_dataframe"  # pandera gives the column as the case
    text = pl.col("_text").fill_null(pl.col("_detail"))
    got = pl.col("failure_case").fill_null("null")
    described = (
        named.join(reasons, on="_check", how="left")
        .join(frame_columns, on="_check", how="left")
        .with_columns(
            pl.when(missing)
            .then(pl.col("failure_case"))
            .when(is_frame_check)
            .then(pl.col("_frame_cols").fill_null(pl.col("column")))
            .otherwise(pl.col("column"))
            .fill_null("")
            .alias("_column"),
        )
        .with_columns(
            pl.when(missing)
            .then(pl.format("{}: {}", pl.col("_column"), text))
            .when(is_frame_check)  # the case is the whole row: the rule says it better
            .then(pl.format("{}: {}", pl.col("_column"), text))
            .when(pl.col(_ROW).is_null())  # a column-level problem such as the type
            .then(pl.format("{}: {} (expected {}); got {}", pl.col("_column"), text, pl.col("_detail"), got))
            .otherwise(pl.format("{}: {}; got {}", pl.col("_column"), text, got))
            .alias("_reason")
        )
    )
    per_row = described.filter(pl.col(_ROW).is_not_null())
    # A failure without a row (missing column, wrong type) makes the whole file unusable:
    # every row is quarantined under it, so nothing of the table flows on unnoticed.
    whole = described.filter(pl.col(_ROW).is_null()).select("_check", "_column", "_reason").unique()
    if not whole.is_empty():
        rows = pl.DataFrame({_ROW: pl.arange(0, frame.height, dtype=pl.UInt32, eager=True)})
        per_row = pl.concat(
            [per_row.select(_ROW, "_check", "_column", "_reason"), rows.join(whole, how="cross")]
        )
    return per_row.select(_ROW, "_check", "_column", "_reason").unique(maintain_order=True)


def _single_case(error: pe.SchemaError) -> pl.DataFrame:
    check = getattr(error, "check", None)
    name = getattr(check, "name", None) or getattr(
        getattr(error, "reason_code", None), "name", "schema_error"
    )
    return pl.DataFrame(
        {
            "failure_case": [str(error)],
            "schema_context": ["DataFrameSchema"],
            "column": [None],
            "check": [str(name)],
            "check_number": [None],
            "index": [None],
        },
        schema={
            "failure_case": pl.String,
            "schema_context": pl.String,
            "column": pl.String,
            "check": pl.String,
            "check_number": pl.Int32,
            "index": pl.Int32,
        },
    )


def _write_atomic(frame: pl.DataFrame, target: Path) -> None:
    """Write under a temporary name in the target's folder, then rename: readers see all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{uuid.uuid4().hex}.parquet"
    try:
        frame.write_parquet(tmp, compression="zstd")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _discard(target: Path) -> None:
    target.unlink(missing_ok=True)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
