"""One small demo store, its lake and a warehouse built by ``dbt build``, shared by the analytics tests.

The store (12 days: the shortest seed-3 period whose customers already made
both refunds by lines and amount-only refunds) is built, exported to the lake
and run through ``dbt build`` (models, data tests, unit tests, the
metric-identity tests) in a subprocess, as the pipeline will, once per session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.integration.analytics.queries import TIMEZONE
from transactional.demo.build import BuildOptions, build_demo
from transactional.storage import lake
from transactional.storage.database import STORE_FILE

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / "dbt_project"


def _dbt(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_TARGET_PATH": str(data_dir / "dbt-target"),
        "DBT_LOG_PATH": str(data_dir / "dbt-logs"),
        "EMPORIUM_LAKE": str(data_dir / "lake"),
        "EMPORIUM_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
    }
    return subprocess.run(
        [str(venv_bin / "dbt"), *args, "--project-dir", str(PROJECT)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-day demo store, its lake, and a warehouse built by ``dbt build``."""
    data_dir = tmp_path_factory.mktemp("dbt")
    build_demo(BuildOptions(data_dir, days=12, end_date=date(2026, 11, 14), seed=3))
    con = duckdb.connect(str(data_dir / STORE_FILE))
    try:
        lake.export_snapshot(con.cursor(), data_dir / "lake", timezone=TIMEZONE)
    finally:
        con.close()
    result = _dbt(["build"], data_dir)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "SKIP=0" in result.stdout
    return data_dir
