from __future__ import annotations

from pathlib import Path

from transactional.api.docs import role_table
from transactional.api.permissions import KEYLESS, PERMISSIONS
from transactional.api.routes import endpoints

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_carries_the_current_role_table() -> None:
    assert role_table() in README.read_text(), "regenerate with: python -m transactional.api.docs"


def test_every_route_has_a_row_in_the_role_table_and_back() -> None:
    routed = set(endpoints()) - KEYLESS
    assert routed == set(PERMISSIONS)
