"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path):
request ids, the body size limit and the access log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transactional.api.logs import request_id_var

access_log = logging.getLogger("emporium.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _TooLarge(Exception):
    pass


class RequestContext:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Exact paths allowed a larger body than the default (a bulk publish that cannot be split).
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject_too_large(send, request_id, limit, scope["path"])
            access_log.info("request", extra=_fields(scope, 413, started))
            request_id_var.reset(token)
            return

        received = 0
        # A body without Content-Length (chunked) is only found too large while the app reads it,
        # and FastAPI turns any error raised there into its own 400; the 413 below replaces that.
        too_large = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if too_large and not response_started:
                return
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            try:
                await self.app(scope, limited_receive, send_with_id)
            except _TooLarge:
                if response_started:  # too late to answer 413; let the server drop the connection
                    raise
            if too_large and not response_started:
                status = 413
                await _reject_too_large(send, request_id, limit, scope["path"])
        finally:
            access_log.info("request", extra=_fields(scope, status, started))
            request_id_var.reset(token)


def _fields(scope: Scope, status: int, started: float) -> dict[str, Any]:
    return {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }


async def _reject_too_large(send: Send, request_id: str, limit: int, path: str) -> None:
    body = orjson.dumps(
        {
            "type": "https://emporium.dev/problems/body_too_large",
            "title": "Content Too Large",
            "status": 413,
            "code": "body_too_large",
            "detail": f"request bodies are limited to {limit} bytes",
            "instance": path,
            "request_id": request_id,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
