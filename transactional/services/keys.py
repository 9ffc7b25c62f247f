"""API keys: create, revoke, rotate. The secret is shown once and stored only as SHA-256."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from transactional.domain.access import Role, hash_secret, new_api_secret
from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Invalid
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork


class CreateKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    name: str = Field(min_length=1, max_length=100)


def key_view(row: Row) -> dict[str, Any]:
    return {
        "key_id": row["key_id"],
        "name": row["name"],
        "role": row["role"],
        "display_prefix": row["display_prefix"],
        "created_at": row["created_at"],
        "revoked_at": row["revoked_at"],
        "replaced_by": row["replaced_by"],
    }


def create_key(uow: UnitOfWork, cmd: CreateKey) -> dict[str, Any]:
    if cmd.role not in Role.__members__:
        raise Invalid(f"role must be one of {', '.join(Role)}", code="invalid_role")
    reject_card_data({"name": cmd.name}, field_kind="free_text")
    secret = new_api_secret(cmd.role)
    row = uow.insert(
        "api_keys",
        {
            "key_id": uow.new_id("key"),
            "name": cmd.name,
            "role": cmd.role,
            "secret_sha256": hash_secret(secret),
            "display_prefix": secret[:12],
            "created_at": uow.now,
            "revoked_at": None,
            "replaced_by": None,
        },
    )
    uow.audit("api_key.create", "api_key", row["key_id"], role=cmd.role, name=cmd.name)
    return {**key_view(row), "secret": secret}


def revoke_key(uow: UnitOfWork, key_id: str) -> dict[str, Any]:
    row = uow.require("api_keys", key_id, code="api_key_not_found", what="API key")
    if row["revoked_at"] is not None:
        raise Conflict(f"API key {key_id} is already revoked", code="api_key_revoked")
    row = uow.update("api_keys", key_id, revoked_at=uow.now)
    uow.audit("api_key.revoke", "api_key", key_id)
    return key_view(row)


def rotate_key(uow: UnitOfWork, key_id: str) -> dict[str, Any]:
    """Issue a new secret for the same role and name and revoke the old key at once."""
    row = uow.require("api_keys", key_id, code="api_key_not_found", what="API key")
    if row["revoked_at"] is not None:
        raise Conflict(f"API key {key_id} is already revoked", code="api_key_revoked")
    fresh = create_key(uow, CreateKey(role=row["role"], name=row["name"]))
    uow.update("api_keys", key_id, revoked_at=uow.now, replaced_by=fresh["key_id"])
    uow.audit("api_key.rotate", "api_key", key_id, replaced_by=fresh["key_id"])
    return fresh
