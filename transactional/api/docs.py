"""Renders the parts of the README that come from code, so the README cannot drift from it.

python -m transactional.api.docs   # prints the role × endpoint table
"""

from __future__ import annotations

from transactional.api.permissions import markdown_table
from transactional.api.routes import endpoints


def role_table() -> str:
    return markdown_table(endpoints())


if __name__ == "__main__":
    print(role_table())  # noqa: T201 - this module's job is to print
