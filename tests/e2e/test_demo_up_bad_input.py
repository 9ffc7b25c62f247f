"""`emporium demo up` refuses bad input with a message and a non-zero exit, and changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.live import EMPORIUM
from transactional.storage.database import LOCK_FILE, StoreLock


def _demo_up(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EMPORIUM, "demo", "up", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_same_port_twice_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    done = _demo_up(tmp_path / "data", "--api-port", "8123", "--dashboards-port", "8123")
    assert done.returncode != 0
    assert "must differ" in done.stderr
    assert not (tmp_path / "data" / "store.duckdb").exists()


def test_a_store_held_by_a_running_server_is_refused_and_left_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lock = StoreLock(data_dir / LOCK_FILE)
    lock.acquire("emporium serve (test)")
    try:
        done = _demo_up(data_dir, "--rebuild")
    finally:
        lock.release()
    assert done.returncode != 0
    assert "in use by emporium serve (test)" in done.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == [
        LOCK_FILE
    ]  # --rebuild removed nothing, built nothing
