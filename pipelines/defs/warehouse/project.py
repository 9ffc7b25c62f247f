"""The dbt project as dagster-dbt sees it, and its manifest kept up to date.

Kept in its own module (dagster-dbt's advice): the manifest must exist before
the module that declares ``@dbt_assets`` can be imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.resources import REPO

DBT_PROJECT_DIR = REPO / "dbt_project"
# dbt lives next to the interpreter in the venv; PATH may not include it (e.g. under pytest).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

emporium_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files)


def ensure_manifest(project: DbtProject = emporium_dbt) -> Path:
    """Parse the project when its manifest is missing or older than any project file; return the manifest.

    A fresh clone has no manifest (target/ is not committed), and a stale one
    would give Dagster the wrong asset graph, so parsing here (about 3 s) beats
    a separate "prepare" step someone can forget.
    """
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        DbtCliResource(
            project_dir=project, dbt_executable=DBT_EXECUTABLE, profiles_dir=str(DBT_PROJECT_DIR)
        ).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return manifest
