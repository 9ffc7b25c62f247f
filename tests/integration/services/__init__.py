"""Service tests on a real DuckDB store, plus the helpers they share.

``assert_rejected`` runs a command that must fail and checks both the error
code and that the database did not change at all (every table's row count
and last commit sequence, and the commits journal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import ADMIN
from transactional.domain.access import Actor
from transactional.domain.errors import DomainError
from transactional.storage.tables import TABLES
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Writer


def run(writer: Writer, fn: Callable[[UnitOfWork], Any], actor: Actor = ADMIN) -> Any:
    """Run one command and return its response body."""
    return writer.run(fn, actor).body


def db_snapshot(writer: Writer) -> dict[str, tuple[int, int]]:
    """(row count, max commit_seq) of every table: equal snapshots mean nothing was written."""
    out: dict[str, tuple[int, int]] = {}
    for table in TABLES:
        row = writer.con.execute(f"select count(*), coalesce(max(commit_seq), 0) from {table}").fetchone()
        assert row is not None
        out[table] = (int(row[0]), int(row[1]))
    return out


def assert_rejected(
    writer: Writer,
    fn: Callable[[UnitOfWork], Any],
    code: str,
    *,
    kind: str | None = None,
    actor: Actor = ADMIN,
) -> DomainError:
    before = db_snapshot(writer)
    with pytest.raises(DomainError) as info:
        writer.run(fn, actor)
    assert info.value.code == code, info.value.detail
    if kind is not None:
        assert info.value.kind == kind
    assert db_snapshot(writer) == before
    return info.value


def scalar(writer: Writer, sql: str, params: list[Any] | None = None) -> Any:
    row = writer.con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def make_sku(
    writer: Writer, sku_code: str = "TEE-M", *, price_minor: int = 2500, unit_cost_minor: int = 900
) -> Any:
    """A category, an active product and one SKU of it, through the catalogue services; returns the SKU."""
    from transactional.services import catalogue as cat

    category_cmd = cat.CreateCategory(name=f"Cat {sku_code}")
    category = run(writer, lambda uow: cat.create_category(uow, category_cmd))
    product_cmd = cat.CreateProduct(
        name=f"Product {sku_code}", category_id=category["category_id"], tax_class="standard"
    )
    product = run(writer, lambda uow: cat.create_product(uow, product_cmd))
    sku_cmd = cat.CreateSku(
        sku_code=sku_code, name=sku_code, unit_cost_minor=unit_cost_minor, price_minor=price_minor
    )
    return run(writer, lambda uow: cat.create_sku(uow, product["product_id"], sku_cmd))


def make_warehouse(writer: Writer, code: str = "EAST", *, region: str = "NY", priority: int = 1) -> Any:
    from transactional.services import inventory as inv

    cmd = inv.CreateWarehouse(code=code, name=f"{code} warehouse", region=region, priority=priority)
    return run(writer, lambda uow: inv.create_warehouse(uow, cmd))


def assert_journal_matches_levels(writer: Writer) -> None:
    """Σ on_hand_delta = on_hand and Σ reserved_delta = reserved per SKU × warehouse (BEY-6)."""
    mismatches = writer.con.execute(
        """
        select l.sku_id, l.warehouse_id, l.on_hand, l.reserved, m.on_hand_sum, m.reserved_sum
        from stock_levels as l
        full join (
            select sku_id, warehouse_id, sum(on_hand_delta) as on_hand_sum,
                sum(reserved_delta) as reserved_sum
            from stock_movements group by all
        ) as m using (sku_id, warehouse_id)
        where coalesce(l.on_hand, 0) <> coalesce(m.on_hand_sum, 0)
           or coalesce(l.reserved, 0) <> coalesce(m.reserved_sum, 0)
        """
    ).fetchall()
    assert mismatches == []
