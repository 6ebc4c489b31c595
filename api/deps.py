"""FastAPI dependencies, as ``Annotated`` aliases the routes use directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth import Principal, authenticate, require_role
from core.db import session_scope
from core.models import Role
from core.settings import Settings
from kb.runtime import Runtime


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    """A database session per request: committed when the route returns, rolled back if it raises.

    Scoped to the route function (``SessionDep``): the commit happens before the response is sent, so a client
    that got 201 can rely on the row, and a failed commit is the client's error answer, not a log line after a
    success. An event stream's session is closed when its route returns, not hours later when the stream ends."""
    with session_scope(request.app.state.settings) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep) -> Principal:
    return authenticate(request, session)


AnyPrincipal = Annotated[Principal, Depends(get_principal)]


def get_ops(principal: AnyPrincipal) -> Principal:
    return require_role(principal, Role.OPS)


def get_agent(principal: AnyPrincipal) -> Principal:
    return require_role(principal, Role.AGENT)


def get_widget(principal: AnyPrincipal) -> Principal:
    return require_role(principal, Role.WIDGET)


def get_staff(principal: AnyPrincipal) -> Principal:
    return require_role(principal, Role.AGENT, Role.OPS)


OpsPrincipal = Annotated[Principal, Depends(get_ops)]
AgentPrincipal = Annotated[Principal, Depends(get_agent)]
WidgetPrincipal = Annotated[Principal, Depends(get_widget)]
StaffPrincipal = Annotated[Principal, Depends(get_staff)]
