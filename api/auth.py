"""Who is calling: a bearer key (ops, agent, widget), a browser session cookie, or a conversation token.

Keys and session secrets are stored hashed. A browser session is made by exchanging a key at ``/v1/auth/login``;
it travels in an HttpOnly cookie, and every unsafe request authenticated by that cookie must carry the
session's CSRF token in the ``X-CSRF-Token`` header (double submit against the value stored server-side).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session

from core.errors import CsrfFailed, Forbidden, Unauthenticated
from core.ids import hash_secret, new_token
from core.models import ApiKey, Role, WebSession, utcnow
from core.workspaces import find_key

SESSION_COOKIE = "bindesk_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    role: Role
    key_id: str
    name: str
    via_cookie: bool = False


def bearer_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate(request: Request, session: Session) -> Principal:
    """The caller's key, from the bearer header or the session cookie; :class:`Unauthenticated` if neither."""
    secret = bearer_secret(request)
    if secret is not None:
        key = find_key(session, secret)
        if key is None:
            raise Unauthenticated("unknown or revoked key")
        return _principal(key, via_cookie=False)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        web = session.get(WebSession, hash_secret(cookie))
        if web is not None and _aware(web.expires_at) > datetime.now(UTC):
            key = session.get(ApiKey, web.key_id)
            if key is not None and key.revoked_at is None:
                if request.method not in _SAFE_METHODS:
                    sent = request.headers.get(CSRF_HEADER, "")
                    if not sent or not hmac.compare_digest(sent, web.csrf_token):
                        raise CsrfFailed("missing or wrong CSRF token for a cookie-authenticated request")
                return _principal(key, via_cookie=True)
    raise Unauthenticated("send 'Authorization: Bearer <key>' or log in")


def require_role(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        wanted = " or ".join(f"{r.value} key" for r in roles)
        yours = f"{principal.role.value} key"
        raise Forbidden(f"this needs {_article(wanted)} {wanted}; yours is {_article(yours)} {yours}")
    return principal


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def start_web_session(session: Session, key: ApiKey, ttl_seconds: int) -> tuple[str, str]:
    """Create a browser session for ``key``; returns (cookie secret, CSRF token)."""
    secret, csrf = new_token(), new_token()
    session.add(
        WebSession(
            id_hash=hash_secret(secret),
            key_id=key.id,
            workspace_id=key.workspace_id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        )
    )
    return secret, csrf


def end_web_session(session: Session, cookie: str | None) -> None:
    if cookie:
        web = session.get(WebSession, hash_secret(cookie))
        if web is not None:
            session.delete(web)


def csrf_for(session: Session, cookie: str | None) -> str | None:
    if not cookie:
        return None
    web = session.get(WebSession, hash_secret(cookie))
    return web.csrf_token if web is not None else None


def _principal(key: ApiKey, *, via_cookie: bool) -> Principal:
    return Principal(key.workspace_id, Role(key.role), key.id, key.name, via_cookie)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
