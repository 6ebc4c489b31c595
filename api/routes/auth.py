"""Browser log-in: exchange a key for an HttpOnly session cookie (plus a CSRF token for unsafe requests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.auth import SESSION_COOKIE, authenticate, csrf_for, end_web_session, start_web_session
from api.deps import SessionDep, SettingsDep
from core.errors import Forbidden, Unauthenticated
from core.models import Role
from core.workspaces import find_key

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    key: str = Field(min_length=8, max_length=200)


@router.post("/login")
def login(body: LoginIn, response: Response, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    key = find_key(session, body.key.strip())
    if key is None:
        raise Unauthenticated("unknown or revoked key")
    if Role(key.role) not in (Role.AGENT, Role.OPS):
        raise Forbidden("only agent and ops keys can log in to the pages")
    secret, csrf = start_web_session(session, key, settings.session_ttl_seconds)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )
    return {"role": key.role.value, "workspace": key.workspace_id, "name": key.name, "csrf_token": csrf}


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep) -> Response:
    authenticate(request, session)  # a cookie-authenticated logout must carry the CSRF token too
    end_web_session(session, request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me")
def me(request: Request, session: SessionDep) -> dict[str, Any]:
    principal = authenticate(request, session)
    return {
        "role": principal.role.value,
        "workspace": principal.workspace_id,
        "name": principal.name,
        "key_id": principal.key_id,
        "csrf_token": csrf_for(session, request.cookies.get(SESSION_COOKIE)) if principal.via_cookie else None,
    }
