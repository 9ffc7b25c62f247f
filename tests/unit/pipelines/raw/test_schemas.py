"""The raw schemas: one per lake table, in step with the store's migrations, and their rules bite."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.raw.quarantine import find_failures
from pipelines.raw.schemas import SCHEMAS, VOCABULARIES
from tests.unit.pipelines.raw.frames import good_frame, with_value
from transactional.storage import lake
from transactional.storage.database import migrate
from transactional.storage.tables import TABLES

LAKE_TABLES = (*lake.SNAPSHOT_TABLES, *lake.APPEND_TABLES)


def failed(table: str, frame: pl.DataFrame) -> set[tuple[int, str, str]]:
    """(row, check, column) of every failure of ``frame`` against the table's schema."""
    found = find_failures(SCHEMAS[table], frame)
    return {(int(r), c, col) for r, c, col in found.select("_row", "_check", "_column").iter_rows()}


def test_every_lake_table_has_a_schema() -> None:
    assert sorted(SCHEMAS) == sorted(LAKE_TABLES)


@pytest.fixture(scope="module")
def store_parquet_types(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, tuple[pl.DataType, bool]]]:
    """Each lake table's columns as the store writes them to Parquet: (polars type, nullable)."""
    folder: Path = tmp_path_factory.mktemp("types")
    con = duckdb.connect()
    migrate(con)
    types: dict[str, dict[str, tuple[pl.DataType, bool]]] = {}
    for table in LAKE_TABLES:
        excluded = lake.EXCLUDED_COLUMNS.get(table, ())
        nullable = dict(
            con.execute(
                "select column_name, is_nullable = 'YES' from information_schema.columns where table_name = ?",
                [table],
            ).fetchall()
        )
        path = folder / f"{table}.parquet"
        con.execute(f"copy (select * from {table} limit 0) to '{path}' (format parquet)")
        types[table] = {
            name: (dtype, bool(nullable[name]))
            for name, dtype in pl.read_parquet_schema(path).items()
            if name not in excluded
        }
    con.close()
    return types


@pytest.mark.parametrize("table", LAKE_TABLES)
def test_schema_matches_the_store(table: str, store_parquet_types: dict[str, dict]) -> None:
    """Same columns, the Parquet type, and NOT NULL where the store has it (keys never null)."""
    schema = SCHEMAS[table]
    store = store_parquet_types[table]
    assert set(schema.columns) == set(store), "schema drift: a migration changed the table"
    for name, (dtype, nullable) in store.items():
        column = schema.columns[name]
        assert column.dtype.type == dtype, name
        if not nullable or name in TABLES[table].key:
            assert not column.nullable, f"{table}.{name} is NOT NULL in the store"


@pytest.mark.parametrize("table", LAKE_TABLES)
def test_good_frame_passes(table: str) -> None:
    assert failed(table, good_frame(SCHEMAS[table])) == set()


@pytest.mark.parametrize("table", LAKE_TABLES)
def test_null_and_duplicate_keys_fail(table: str) -> None:
    key = TABLES[table].key
    frame = good_frame(SCHEMAS[table])
    nulls = with_value(frame, key[0], 1, None)
    assert (1, "not_nullable", key[0]) in failed(table, nulls)
    dup = pl.concat([frame, frame.slice(2, 1)])
    found = failed(table, dup)
    if len(key) == 1:
        assert {(2, "field_uniqueness", key[0]), (3, "field_uniqueness", key[0])} <= found
    else:
        joined = ",".join(key)
        assert {(2, "multiple_fields_uniqueness", joined), (3, "multiple_fields_uniqueness", joined)} <= found


@pytest.mark.parametrize("table", LAKE_TABLES)
def test_non_positive_commit_seq_fails(table: str) -> None:
    frame = with_value(good_frame(SCHEMAS[table]), "commit_seq", 0, 0)
    assert (0, "positive", "commit_seq") in failed(table, frame)


CHECKED = [
    (table, name, check.name)
    for table in LAKE_TABLES
    for name, column in SCHEMAS[table].columns.items()
    for check in column.checks
    if check.name in VOCABULARIES or check.name in ("non_negative", "positive", "currency_code")
]


@pytest.mark.parametrize(("table", "column", "check"), CHECKED)
def test_column_rules_reject_bad_values(table: str, column: str, check: str) -> None:
    bad = {"non_negative": -1, "positive": 0, "currency_code": "usd"}.get(check, "not-a-word")
    frame = with_value(good_frame(SCHEMAS[table]), column, 1, bad)
    assert (1, check, column) in failed(table, frame)


def test_nullable_vocabulary_columns_accept_null() -> None:
    frame = with_value(good_frame(SCHEMAS["order_status_history"]), "from_status", 0, None)
    assert failed("order_status_history", frame) == set()


@pytest.mark.parametrize(
    ("table", "changes", "check", "column"),
    [
        ("order_lines", {"quantity": 2, "quantity_refunded": 1, "quantity_cancelled": 2},
         "refunded_cancelled_le_quantity", "quantity_refunded,quantity_cancelled,quantity"),
        ("order_lines", {"quantity": 1, "quantity_shipped": 2}, "shipped_le_quantity", "quantity_shipped,quantity"),
        ("order_lines", {"gross_minor": 100, "discount_minor": 10, "net_minor": 100},
         "net_is_gross_less_discount", "net_minor,gross_minor,discount_minor"),
        ("order_allocations", {"quantity": 2, "quantity_shipped": 2, "quantity_released": 1},
         "shipped_released_le_quantity", "quantity_shipped,quantity_released,quantity"),
        ("stock_levels", {"on_hand": 3, "reserved": 4}, "reserved_le_on_hand", "reserved,on_hand"),
        ("orders", {"customer_id": None, "guest_email": None}, "customer_or_guest", "customer_id,guest_email"),
        ("orders", {"status": "cancelled", "cancelled_at": None}, "cancelled_has_time", "status,cancelled_at"),
        ("orders", {"net_minor": 10, "gross_minor": 10, "total_minor": 9}, "total_ge_net", "total_minor,net_minor"),
        ("payments", {"captured_minor": 5, "refunded_minor": 6}, "refunded_le_captured",
         "refunded_minor,captured_minor"),
        ("ledger_lines", {"debit_minor": 5, "credit_minor": 5}, "one_sided_line", "debit_minor,credit_minor"),
        ("store_credit_movements", {"kind": "redemption", "delta_minor": 5}, "credit_delta_sign", "kind,delta_minor"),
        ("store_credit_movements", {"kind": "issue", "delta_minor": -5}, "credit_delta_sign", "kind,delta_minor"),
        ("storefront_events", {"source": "client", "event_name": "purchase"}, "event_source_matches_name",
         "source,event_name"),
        ("coupons", {"kind": "percent", "percent_off": None}, "percent_has_rate", "kind,percent_off"),
        ("stock_alerts", {"source": "core", "reorder_point": None}, "core_alert_has_reorder_point",
         "source,reorder_point"),
        ("storefront_events", {"event_id": "NOT-A-UUID"}, "uuid", "event_id"),
        ("storefront_event_items", {"quantity": 0}, "between_1_10000", "quantity"),
    ],
)  # fmt: skip
def test_cross_column_rules(table: str, changes: dict, check: str, column: str) -> None:
    frame = good_frame(SCHEMAS[table])
    for name, value in changes.items():
        frame = with_value(frame, name, 1, value)
    found = failed(table, frame)
    assert (1, check, column) in found
    assert all(row == 1 for row, _, _ in found), found  # the good rows stay good


def test_reasons_are_readable() -> None:
    frame = with_value(good_frame(SCHEMAS["orders"]), "status", 2, "teleported")
    found = find_failures(SCHEMAS["orders"], frame)
    assert found.rows() == [
        (2, "in_order_statuses", "status", "status: must be one of cancelled, completed, delivered, expired, "
         "paid, partially_shipped, pending_payment, picking, shipped; got teleported"),
    ]  # fmt: skip


def test_wrong_type_or_missing_column_fails_every_row() -> None:
    frame = good_frame(SCHEMAS["stock_levels"])
    found = failed("stock_levels", frame.drop("reserved"))
    assert {(r, "column_in_dataframe", "reserved") for r in range(3)} <= found
    found = failed("stock_levels", frame.with_columns(pl.col("on_hand").cast(pl.Float64)))
    assert {(r, "dtype", "on_hand") for r in range(3)} <= found
