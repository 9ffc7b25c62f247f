"""Real servers for end-to-end tests: `emporium serve` in its own process on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.demo.seed import seed_store

REPO = Path(__file__).resolve().parents[2]
EMPORIUM = str(Path(sys.executable).with_name("emporium"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data_dir: Path) -> dict[str, str]:
    """Seed a small store in data_dir (offline, under the lock) and return one API key per role."""
    runtime = open_runtime(Settings(data_dir=data_dir), holder="test seed")
    try:
        return seed_store(runtime.writer)["keys"]
    finally:
        runtime.close()


@dataclass
class LiveServer:
    data_dir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LiveServer:
        self.log_path = self.data_dir / f"server-{self.port}-{int(time.time() * 1000)}.log"
        env = {
            **os.environ,
            "EMPORIUM_DATA_DIR": str(self.data_dir),
            "EMPORIUM_LOG_LEVEL": "WARNING",
            **self.env,
        }
        log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [EMPORIUM, "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM: stop accepting, drain the writer's queue, commit, exit."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, nothing gets to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def client(self, key: str, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}", **headers}, timeout=30
        )


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have ``status``; the body is the failure message."""
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def guest_order_body(sku_id: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "guest_email": "guest@example.com",
        "lines": [{"sku_id": sku_id, "quantity": quantity}],
        "shipping_address": {
            "name": "Grace Guest",
            "line1": "5 Elm St",
            "city": "Albany",
            "region": "NY",
            "postal_code": "12207",
            "country": "US",
        },
        "sales_channel": "web",
        "traffic_source": "organic",
        "device": "desktop",
    }
    body.update(extra)
    return body


def stocked_sku(
    admin: httpx.Client, label: str, *, stock: int, price_minor: int = 1000, **sku: Any
) -> tuple[str, str]:
    """A fresh category, product and SKU of a test module, with ``stock`` units in EAST only;
    returns (sku id, EAST's warehouse id)."""
    tag = uuid.uuid4().hex[:8]
    category = ok(admin.post("/api/v1/categories", json={"name": f"{label} {tag}"}), 201)
    product = ok(
        admin.post(
            "/api/v1/products",
            json={"name": f"{label} {tag}", "category_id": category["category_id"], "tax_class": "standard"},
        ),
        201,
    )
    code = f"{label[:4].upper().replace(' ', '')}-{tag}"
    body = {
        "sku_code": code,
        "name": code,
        "unit_cost_minor": price_minor * 2 // 5,
        "price_minor": price_minor,
    }
    created = ok(admin.post(f"/api/v1/products/{product['product_id']}/skus", json={**body, **sku}), 201)
    warehouse = next(w for w in ok(admin.get("/api/v1/warehouses"))["items"] if w["code"] == "EAST")
    ok(
        admin.post(
            f"/api/v1/stock/{created['sku_id']}/{warehouse['warehouse_id']}/adjustments",
            json={"delta": stock, "reason": f"{label} stock"},
        ),
        201,
    )
    return created["sku_id"], warehouse["warehouse_id"]
