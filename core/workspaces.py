"""Workspaces (tenants) and their API keys."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.ids import hash_secret, new_token
from core.models import ApiKey, Role, Workspace, utcnow

DEFAULT_WORKSPACE = "default"
_WORKSPACE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def validate_workspace_id(workspace_id: str) -> str:
    """Workspace ids are short lowercase slugs: they appear in blob keys and Milvus partition values."""
    if not _WORKSPACE_ID.match(workspace_id):
        raise InvalidInput(f"workspace id {workspace_id!r} must match {_WORKSPACE_ID.pattern}")
    return workspace_id


def ensure_workspace(session: Session, workspace_id: str, name: str | None = None) -> Workspace:
    """Get or create a workspace row."""
    validate_workspace_id(workspace_id)
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        workspace = Workspace(id=workspace_id, name=name or workspace_id)
        session.add(workspace)
        session.flush()
    return workspace


def create_key(session: Session, workspace_id: str, role: Role, name: str = "") -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is shown once and never stored."""
    ensure_workspace(session, workspace_id)
    secret = f"bk_{role.value}_{new_token(24)}"
    key = ApiKey(workspace_id=workspace_id, role=role, name=name, key_hash=hash_secret(secret))
    session.add(key)
    session.flush()
    return key, secret


def find_key(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, or None."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_secret(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return key


def revoke_key(session: Session, workspace_id: str, key_id: str) -> bool:
    key = session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace_id:
        return False
    key.revoked_at = utcnow()
    return True
