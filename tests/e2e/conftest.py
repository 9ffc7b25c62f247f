"""One seeded store served by a real `emporium serve` on loopback, shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import LiveServer, free_port, seed


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live-store")
    keys = seed(data_dir)
    server = LiveServer(data_dir, free_port()).start()
    server.keys = keys  # type: ignore[attr-defined]
    yield server
    server.terminate()


@pytest.fixture(scope="session")
def keys(live: LiveServer) -> dict[str, str]:
    return live.keys  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="session")
def sku_ids(live: LiveServer, keys: dict[str, str]) -> list[str]:
    with live.client(keys["admin"]) as client:
        products = client.get("/api/v1/products", params={"limit": 200}).json()["items"]
    return [sku["sku_id"] for p in products for sku in p["skus"]]


@pytest.fixture
def admin(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["admin"]) as client:
        yield client


@pytest.fixture(scope="module")
def admin_m(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    """An admin client kept for a whole test module."""
    with live.client(keys["admin"]) as client:
        yield client
