"""Reads for the store record, API keys and the audit trail."""

from __future__ import annotations

from typing import Any

import duckdb

from transactional.storage.reads import fetch_one, page


def get_store(cur: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    return fetch_one(
        cur,
        "select store_id, name, currency, timezone, tax_mode, order_ttl_seconds, created_at from store",
    )


def list_keys(cur: duckdb.DuckDBPyConnection, *, limit: int, after: str | None) -> dict[str, Any]:
    return page(
        cur,
        "select key_id, name, role, display_prefix, created_at, revoked_at, replaced_by from api_keys where true",
        [],
        id_column="key_id",
        limit=limit,
        after=after,
    )


def list_audit(
    cur: duckdb.DuckDBPyConnection, *, limit: int, after: str | None, action: str | None
) -> dict[str, Any]:
    sql = (
        "select audit_id, occurred_at, actor_key_id, actor_role, action, target_type, target_id, "
        "request_id, details_json from audit_log where (? is null or action = ?)"
    )
    return page(cur, sql, [action, action], id_column="audit_id", limit=limit, after=after)
