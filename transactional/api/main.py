"""The HTTP API: app factory, lifespan (writer thread, due-work loop) and the OpenAPI document."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from transactional.api import problems
from transactional.api.middleware import RequestContext
from transactional.api.permissions import OWN_ONLY_FOR_STOREFRONT, PERMISSIONS, markdown_table
from transactional.api.routes import ROUTERS, endpoints
from transactional.bootstrap import Runtime
from transactional.domain.access import SYSTEM
from transactional.providers.payments import PaymentProvider, SandboxProvider
from transactional.services import payment_flow, payments
from transactional.services.due import run_due
from transactional.storage.writer import Command

log = logging.getLogger("emporium.api")

DESCRIPTION = """\
Emporium's transactional core: catalogue, customers, stock, purchasing, orders and payments.

Authenticate with `Authorization: Bearer <api key>`. Storefront keys act for a
customer with `X-Customer-Token` (from `POST /api/v1/auth/customer-token`) or
read one guest order with `X-Order-Token` (returned when the order is placed).
POSTs that move stock or money accept `Idempotency-Key`. Errors are RFC 9457
`application/problem+json` with a stable `code`.

## Roles × operations

"""


PRUNE_EVERY_TICKS = 150
RECONCILE_EVERY_TICKS = 5


async def _due_loop(runtime: Runtime, provider: PaymentProvider) -> None:
    """Submit the due-work command (order expiry, key pruning) on the server's clock, and every few
    ticks reconcile payment operations whose outcome is unknown (provider called off the event loop)."""
    tick = 0
    while True:
        await asyncio.sleep(runtime.settings.due_interval_seconds)
        tick += 1
        cutoff = None
        if tick % PRUNE_EVERY_TICKS == 0:
            cutoff = runtime.clock.now() - runtime.writer.idempotency_retention
        command = Command(fn=functools.partial(run_due, idempotency_cutoff=cutoff), actor=SYSTEM)
        try:
            await asyncio.wrap_future(runtime.writer.submit(command))
        except Exception:  # due work must never kill the loop; the next tick retries
            log.exception("due work failed")
        if tick % RECONCILE_EVERY_TICKS == 0:
            try:
                # Blocks on the writer and the provider: a worker thread, never the event loop.
                counts = await asyncio.to_thread(
                    payment_flow.reconcile_unknown, runtime.writer, provider, runtime.clock.now()
                )
                if counts["checked"]:
                    log.info("payment reconciliation: %s", counts)
            except Exception:  # the next round retries
                log.exception("payment reconciliation failed")


def create_app(runtime: Runtime, payment_provider: PaymentProvider | None = None) -> FastAPI:
    """The app over ``runtime``; payments go to ``payment_provider`` (default: the offline sandbox)."""
    provider: PaymentProvider = payment_provider if payment_provider is not None else SandboxProvider()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not runtime.writer.is_running:
            runtime.writer.start()
        # Calls left pending by a previous process (it died mid-call) are unknown: the
        # reconciler asks the provider about them at once instead of after the stale delay.
        started = runtime.clock.now()
        orphans = Command(fn=lambda uow: payments.mark_orphaned_unknown(uow, before=started), actor=SYSTEM)
        found = await asyncio.wrap_future(runtime.writer.submit(orphans))
        if found.body["marked_unknown"]:
            log.warning("payment calls left pending by the previous process: %s", found.body)
        due = asyncio.create_task(_due_loop(runtime, provider))
        try:
            yield
        finally:
            due.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await due
            # Uvicorn has already answered every in-flight request; drain and commit the rest.
            runtime.writer.stop()

    app = FastAPI(
        title="Emporium API",
        version="1.0",
        description=DESCRIPTION + markdown_table(endpoints()),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.payment_provider = provider
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        RequestContext,
        max_body_bytes=runtime.settings.max_body_bytes,
        path_limits={"/api/v1/alerts/forecasts": runtime.settings.max_forecast_body_bytes},
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer"}
            }
            for path_item in schema["paths"].values():
                for op in path_item.values():
                    roles = PERMISSIONS.get(op.get("operationId", ""))
                    if roles is None:
                        continue
                    own = (
                        " (storefront: own objects only)"
                        if op["operationId"] in OWN_ONLY_FOR_STOREFRONT
                        else ""
                    )
                    op["x-roles"] = sorted(roles)
                    op["security"] = [{"apiKey": []}]
                    op["description"] = (
                        op.get("description") or ""
                    ) + f"\n\nRoles: {', '.join(sorted(roles))}{own}."
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
