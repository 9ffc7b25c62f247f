"""The analytics lake's raw layer: a consistent Parquet snapshot of every table (pipeline role).

The export runs on a read cursor in a worker thread, inside one read transaction
(storage/lake.py): never in the writer, never on the event loop, so the server
keeps committing while it runs. One export at a time per lake: a second request
while one runs gets 409 ``snapshot_running`` (the caller retries later).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from transactional.api.deps import CallerDep, get_runtime, json_response
from transactional.bootstrap import Runtime
from transactional.storage import lake
from transactional.storage.reads import admin as admin_reads

router = APIRouter(prefix="/api/v1", tags=["lake"])


def run_export(runtime: Runtime) -> dict[str, Any]:
    """Export the store to the lake from a read cursor; returns the new manifest."""
    with runtime.reader() as cur:
        store = admin_reads.get_store(cur)
        timezone = store["timezone"] if store is not None else "UTC"
        return lake.export_snapshot(cur, runtime.settings.lake_path, timezone=timezone)


def summary(manifest: dict[str, Any], lake_dir: str) -> dict[str, Any]:
    """The manifest without its file lists: what a caller needs to know about the snapshot."""
    tables = {
        name: {k: v for k, v in entry.items() if k != "files"} for name, entry in manifest["tables"].items()
    }
    return {**{k: v for k, v in manifest.items() if k != "tables"}, "lake_dir": lake_dir, "tables": tables}


@router.post("/lake/snapshots", operation_id="lake.snapshot", status_code=201)
async def create_snapshot(request: Request, caller: CallerDep) -> Response:
    """Write a consistent snapshot of every table to the Parquet lake and publish its manifest.

    Journals are exported past the previous snapshot's high-water commit sequence;
    other tables are rewritten whole. 409 ``snapshot_running`` while another runs."""
    runtime = get_runtime(request)
    manifest = await run_in_threadpool(run_export, runtime)
    return json_response(summary(manifest, str(runtime.settings.lake_path)), 201)
