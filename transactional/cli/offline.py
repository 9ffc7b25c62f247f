"""Running services directly on the store file, for commands that need no server.

They take the same lock file as the server, so the two never open the store at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from transactional.bootstrap import Runtime, open_runtime
from transactional.config import Settings
from transactional.domain.access import Actor
from transactional.domain.errors import DomainError
from transactional.storage.unit_of_work import UnitOfWork

OFFLINE_ADMIN = Actor(role="admin")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@contextmanager
def offline_runtime(settings: Settings, holder: str) -> Iterator[Runtime]:
    try:
        runtime = open_runtime(settings, holder=holder)
    except DomainError as exc:
        raise fail(exc.detail) from None
    try:
        yield runtime
    finally:
        runtime.close()


def run_offline(
    settings: Settings, holder: str, fn: Callable[[UnitOfWork], Any], *, require_store: bool = True
) -> Any:
    """Run one service as the offline admin and return its result; domain errors exit non-zero."""
    with offline_runtime(settings, holder) as runtime:
        if require_store and not runtime.writer.state.tables["store"].rows:
            raise fail(f"no store in {settings.data_dir}; run `emporium init` first")
        try:
            return runtime.writer.run(fn, OFFLINE_ADMIN).body
        except DomainError as exc:
            raise fail(f"{exc.detail} [{exc.code}]") from None
