"""A small HTTP client for the operator commands; prints problem details on errors."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import typer

from transactional.cli.offline import fail
from transactional.config import Settings


class ApiClient:
    def __init__(self, settings: Settings, url: str | None, key: str | None) -> None:
        self.base = (url or settings.api_url).rstrip("/")
        key = key or settings.api_key
        if not key:
            raise fail("no API key: pass --key or set EMPORIUM_API_KEY")
        self._http = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if idempotent else {}
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean, headers=headers)
        except httpx.ConnectError:
            raise fail(
                f"cannot reach the Emporium server at {self.base}; is `emporium serve` running?"
            ) from None
        if response.status_code >= 400:
            try:
                problem = response.json()
                message = f"{problem.get('detail')} [{problem.get('code')}, HTTP {response.status_code}]"
            except ValueError:
                message = f"HTTP {response.status_code}: {response.text[:200]}"
            raise fail(message)
        return response.json()


def option_url() -> Any:
    return typer.Option(None, "--url", help="API base URL (default: EMPORIUM_API_URL)")


def option_key() -> Any:
    return typer.Option(None, "--key", help="API key (default: EMPORIUM_API_KEY)")
