"""`emporium demo up`: the whole platform on loopback, from one command, stopped by one Ctrl-C.

Order matters because of DuckDB's one-writer-per-file rule (DESIGN.md):
1. build the demo store unless one exists (``--rebuild`` starts over);
2. materialize every pipeline asset ONCE from the store file, before any server
   holds it, so the dashboards have marts from the first second;
3. start the API server (it takes the store's lock), then Dagster (webserver,
   daemon and code server via ``dagster dev``, at a lower CPU priority: batch
   work must not slow the store's writes) and the dashboards;
4. print the URLs and wait; Ctrl-C or SIGTERM stops each process group, the
   server last so that the pipeline's in-flight snapshot finishes cleanly.

Dagster's instance lives in ``<data dir>/dagster`` (runs, schedules, sensors);
its dagster.yaml allows one run at a time because dbt locks the warehouse file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAGSTER_YAML = """\
# Written by `emporium demo up`.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1  # dbt holds the warehouse file's lock: one run at a time
  pools:
    default_limit: 1
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
"""


@dataclass
class Service:
    name: str
    argv: list[str]
    ready_url: str
    url: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class Stack:
    data_dir: Path
    api_port: int = 8000
    dagster_port: int = 3000
    dashboards_port: int = 8501
    say: Callable[[str], None] = print
    services: list[Service] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "EMPORIUM_DATA_DIR": str(self.data_dir),
            "EMPORIUM_API_URL": f"http://127.0.0.1:{self.api_port}",
            "EMPORIUM_MARTS": str(self.data_dir / "marts.duckdb"),
            "DAGSTER_HOME": str(self.dagster_home),
            "DO_NOT_TRACK": "1",
            "DAGSTER_DISABLE_TELEMETRY": "1",
        }

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    def prepare_dagster_home(self) -> None:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        (self.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)

    def materialize(self) -> None:
        """Every asset once, as one run of `refresh_all` recorded in the instance (no server yet)."""
        self.say("materializing every pipeline asset (lake snapshot → dbt → publish → alerts) ...")
        started = time.monotonic()
        log = self.data_dir / "logs" / "first-materialization.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            # Its own process group, like the services: `dagster job execute` starts step processes and
            # dbt under it, and an interrupt must stop all of them, not only the parent (subprocess.run
            # would SIGKILL the parent alone and leave dbt holding the warehouse's lock).
            proc = subprocess.Popen(
                ["nice", "-n", "10", str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions",
                 "-j", "refresh_all"],
                env=self.env(), cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                code = proc.wait()
            except BaseException:
                _stop_group(proc, timeout=30)
                raise
        if code != 0:
            raise RuntimeError(f"the first materialization failed (exit {code}); see {log}")
        self.say(f"materialized in {time.monotonic() - started:.0f} s")

    def define_services(self) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        api = f"http://127.0.0.1:{self.api_port}"
        self.services = [
            Service("API", [str(BIN / "emporium"), "serve", "--port", str(self.api_port)],
                    f"{api}/ready", f"{api}/docs", logs / "api.log"),
            Service("Dagster", ["nice", "-n", "10", str(BIN / "dagster"), "dev", "-m", "pipelines.definitions",
                                "-h", "127.0.0.1", "-p", str(self.dagster_port)],
                    f"http://127.0.0.1:{self.dagster_port}/server_info", f"http://127.0.0.1:{self.dagster_port}",
                    logs / "dagster.log"),
            Service("Dashboards", [str(BIN / "streamlit"), "run", str(REPO / "dashboards" / "app.py"),
                                   "--server.headless", "true", "--server.address", "127.0.0.1",
                                   "--server.port", str(self.dashboards_port),
                                   "--browser.gatherUsageStats", "false"],
                    f"http://127.0.0.1:{self.dashboards_port}/_stcore/health",
                    f"http://127.0.0.1:{self.dashboards_port}", logs / "dashboards.log"),
        ]  # fmt: skip

    def start(self, timeout: float = 120) -> None:
        """Start every service in its own process group and wait until each answers."""
        for service in self.services:
            out = open(service.log, "ab")  # noqa: SIM115 - lives as long as the process
            service.proc = subprocess.Popen(
                service.argv,
                env=self.env(),
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._wait_ready(service, timeout)
            self.say(f"{service.name:<11} {service.url}   (log: {service.log})")

    def _wait_ready(self, service: Service, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert service.proc is not None
        while time.monotonic() < deadline:
            if service.proc.poll() is not None:
                raise RuntimeError(f"{service.name} exited with {service.proc.returncode}; see {service.log}")
            try:
                if httpx.get(service.ready_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{service.name} did not answer {service.ready_url} within {timeout:.0f} s")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM each process group, newest first (the API server last), then SIGKILL what is left."""
        for service in reversed(self.services):
            proc = service.proc
            if proc is None or proc.poll() is not None:
                continue
            _stop_group(proc, timeout)
            self.say(f"stopped {service.name}")

    def wait(self) -> None:
        """Block until a signal arrives or a service dies."""
        while all(s.proc is not None and s.proc.poll() is None for s in self.services):
            time.sleep(0.5)
        dead = [s.name for s in self.services if s.proc is not None and s.proc.poll() is not None]
        raise RuntimeError(f"{', '.join(dead)} stopped on its own; see the logs in {self.data_dir / 'logs'}")


def _stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group led by ``proc``, SIGKILL it if ``proc`` is not gone within ``timeout``."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
    except ProcessLookupError:
        proc.wait(5)


def reset(data_dir: Path) -> None:
    """Remove what a rebuild replaces: the store, lake, warehouse, marts and the Dagster instance."""
    for name in ("store.duckdb", "store.duckdb.wal", "warehouse.duckdb", "marts.duckdb", "ground_truth.json",
                 "demo-keys.json"):  # fmt: skip
        (data_dir / name).unlink(missing_ok=True)
    for folder in ("lake", "dagster", "dbt-target"):
        shutil.rmtree(data_dir / folder, ignore_errors=True)
