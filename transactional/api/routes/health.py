"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from transactional.api.deps import get_runtime, json_response

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health")
async def health() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@router.get("/ready", operation_id="ready")
def ready(request: Request) -> Response:
    """The writer is running and the store answers a query."""
    runtime = get_runtime(request)
    checks = {"writer": runtime.writer.is_running, "store": False}
    try:
        with runtime.reader() as cur:
            checks["store"] = cur.execute("select 1").fetchone() == (1,)
    except Exception:  # any failure means not ready; the probe reports it instead of raising
        checks["store"] = False
    ok = all(checks.values())
    return json_response({"status": "ready" if ok else "not_ready", "checks": checks}, 200 if ok else 503)
