"""Good frames for any raw schema, built from the schema itself, so every table gets tested."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandera.polars as pa
import polars as pl

from pipelines.raw.schemas import VOCABULARIES
from transactional.storage.tables import TABLES

WHEN = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)

# A value that passes each named check (the test values of the rules themselves).
_PASSING: dict[str, Any] = {
    "currency_code": "USD",
    "last4": "4242",
    "sha256": "a" * 64,
    "positive": 1,
    "non_zero": 1,
    "fraction": Decimal("0.5"),
    "percent_off": Decimal("0.5"),
}


def _value(column: pa.Column, row: int, is_key: bool) -> Any:
    for check in column.checks:
        if check.name == "uuid":
            return f"00000000-0000-4000-8000-{row:012x}"
        if check.name in VOCABULARIES:
            return VOCABULARIES[check.name][0]
        if check.name.startswith("between_"):
            return int(check.name.split("_")[1]) + (row if is_key else 0)
        if check.name in _PASSING:
            value = _PASSING[check.name]
            return value + row if is_key and isinstance(value, int) else value
    dtype = column.dtype.type
    if dtype == pl.String:
        return f"k{row}" if is_key else "x"
    if dtype in (pl.Int32, pl.Int64):
        return row if is_key else 0
    if isinstance(dtype, pl.Datetime):
        return WHEN
    if dtype == pl.Date:
        return date(2026, 11, 14)
    if dtype == pl.Boolean:
        return True
    if isinstance(dtype, pl.Decimal):
        return Decimal("0.5")
    raise AssertionError(f"no test value for {column.name}: {dtype}")


def good_frame(schema: pa.DataFrameSchema, rows: int = 3) -> pl.DataFrame:
    """``rows`` rows that pass ``schema``: distinct keys, every other column a passing constant."""
    key = set(TABLES[str(schema.name)].key)
    data = {
        name: pl.Series(
            name,
            [_value(column, i, name in key) for i in range(rows)],
            dtype=column.dtype.type,
        )
        for name, column in schema.columns.items()
    }
    return pl.DataFrame(data)


def with_value(frame: pl.DataFrame, column: str, row: int, value: Any) -> pl.DataFrame:
    """``frame`` with one cell replaced (same type)."""
    dtype = frame.schema[column]
    values = frame[column].to_list()
    values[row] = value
    return frame.with_columns(pl.Series(column, values, dtype=dtype, strict=False))
