"""The dashboards served for real: ``streamlit run dashboards/app.py`` in its own process group, and Chromium.

Shared by the browser tests and bench/dashboards.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.live import free_port

REPO = Path(__file__).resolve().parents[3]
STREAMLIT = str(Path(sys.executable).with_name("streamlit"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# page -> its URL path (the default page lives at the root)
PAGES = {
    "overview": "",
    "sales": "sales",
    "behaviour": "behaviour",
    "market": "market",
    "inventory": "inventory",
    "finance": "finance",
    "logistics": "logistics",
}


@dataclass
class DashboardApp:
    marts: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> DashboardApp:
        env = {
            **os.environ,
            "EMPORIUM_MARTS": str(self.marts),
            "DO_NOT_TRACK": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [
                STREAMLIT,
                "run",
                "dashboards/app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"streamlit not healthy after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def serve(marts: Path, log_dir: Path) -> Iterator[DashboardApp]:
    app = DashboardApp(marts, log_dir / f"streamlit-{int(time.time() * 1000)}.log").start()
    try:
        yield app
    finally:
        app.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (the system one: never ``playwright install`` here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def last_run(page: Any) -> int:
    """The run number of the last finished script run on the page (0 before any)."""
    return int(
        page.evaluate(
            """() => Math.max(0, ...[...document.querySelectorAll('.emporium-done')].map(e => +e.dataset.run))"""
        )
    )


def wait_rendered(page: Any, after: int = 0, timeout_ms: float = 30_000, polling: Any = 50) -> str:
    """Until a script run later than ``after`` finished and its charts are drawn; returns its publication id."""
    page.wait_for_function(
        """(after) => {
            const marks = [...document.querySelectorAll('.emporium-done')].filter(e => +e.dataset.run > after);
            if (!marks.length) return false;
            const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
            return charts.filter(c => c.offsetParent !== null).every(c => c.querySelector('canvas, svg'));
        }""",
        arg=after,
        timeout=timeout_ms,
        polling=polling,
    )
    return str(page.locator(".emporium-done").last.get_attribute("data-publication"))


def assert_no_errors(page: Any, log: str = "") -> None:
    """No Streamlit exception box and no error alert on the page (the server's log tail is the message)."""
    assert page.locator('[data-testid="stException"]').count() == 0, log[-3000:]
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, log[-3000:]


def full_page_screenshot(page: Any, target: Path, width: int = 1440, height: int = 900) -> Path:
    """A PNG of the whole page at ``width``; the viewport is back to ``width``×``height`` afterwards."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Streamlit scrolls inside its main block, so a "full page" is the viewport: grow it to the content.
    content = page.evaluate("""() => document.querySelector('[data-testid="stMain"]').scrollHeight""")
    page.set_viewport_size({"width": width, "height": min(int(content) + 80, 16_000)})
    page.wait_for_timeout(300)  # the charts re-layout to the new viewport
    page.screenshot(path=str(target), full_page=True)
    page.set_viewport_size({"width": width, "height": height})
    return target
