"""Identifiers: random ids for rows, deterministic ids for chunks (so a retried ingest upserts in place)."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_id() -> str:
    """A new random row id: 32 lowercase hex characters."""
    return uuid.uuid4().hex


def new_token(nbytes: int = 32) -> str:
    """A new URL-safe secret (API keys, conversation tokens, CSRF tokens)."""
    return secrets.token_urlsafe(nbytes)


def chunk_id(workspace_id: str, document_id: str, version: int, ordinal: int) -> str:
    """The primary key of a chunk: the same inputs always give the same id.

    A retried or duplicated ingest of the same document version therefore upserts the same rows instead
    of adding new ones; a new version gets new ids and the old version's rows are deleted after it.
    """
    raw = f"{workspace_id}\x1f{document_id}\x1f{version}\x1f{ordinal}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def hash_secret(secret: str) -> str:
    """Keys and tokens are stored as this hash, never in clear. SHA-256 suffices for 256-bit random secrets."""
    return hashlib.sha256(secret.encode()).hexdigest()
