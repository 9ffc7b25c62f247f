"""The read side: SQL queries answering GET endpoints from committed data.

Each function takes a DuckDB cursor (one per request, on the API server's
reader connection) and returns plain dicts. Lists are keyset-paginated on
their id: ``limit`` rows after the id ``after``, plus ``next_after`` to pass
on for the next page (None on the last page).
"""

from __future__ import annotations

from typing import Any

import duckdb

MAX_PAGE = 200


def fetch_dicts(
    cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    result = cur.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def fetch_one(
    cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> dict[str, Any] | None:
    rows = fetch_dicts(cur, sql, params)
    return rows[0] if rows else None


def page(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[Any],
    *,
    id_column: str,
    limit: int,
    after: str | None,
) -> dict[str, Any]:
    """Run ``sql`` (a SELECT with a WHERE clause, no ORDER BY/LIMIT) as one keyset page.

    ``sql`` must end in a WHERE clause (use ``where true`` if it has no filter).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    args = list(params)
    if after is not None:
        sql += f" and {id_column} > ?"
        args.append(after)
    sql += f" order by {id_column} limit ?"
    args.append(limit + 1)
    rows = fetch_dicts(cur, sql, args)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_after": rows[-1][id_column] if more and rows else None}
