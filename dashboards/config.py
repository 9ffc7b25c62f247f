"""Where the dashboards find the published marts: the only module of the app that reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MARTS = Path("data") / "marts.duckdb"


def marts_path() -> Path:
    """EMPORIUM_MARTS, else EMPORIUM_DATA_DIR/marts.duckdb, else data/marts.duckdb (relative to the cwd)."""
    explicit = os.environ.get("EMPORIUM_MARTS")
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("EMPORIUM_DATA_DIR")
    if data_dir:
        return Path(data_dir) / "marts.duckdb"
    return DEFAULT_MARTS
