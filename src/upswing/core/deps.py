"""FastAPI dependencies shared by every domain: settings and the request's database session.

Write endpoints call ``session.commit()`` themselves as their last step: the request is the
transaction boundary, and services never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from upswing.core import rls
from upswing.core.db import read_session
from upswing.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


#: Requests with these methods only read, unless their route is marked ``openapi_extra={WRITES: True}``
#: (a read that leaves an audit entry, such as viewing a lead).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITES = "x-writes"
#: ``openapi_extra`` of a GET route that records an audit entry (it runs as a write transaction).
AUDITED_READ: dict[str, object] = {WRITES: True}


def request_writes(request: Request) -> bool:
    if request.method not in SAFE_METHODS:
        return True
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return bool(extra.get(WRITES))


def get_db(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory() if request_writes(request) else read_session(factory)
    try:
        yield session
    finally:
        session.rollback()
        rls.stop_acting(session)  # authentication set the user's claims on it (``rls.act_as``)
        session.close()


DbSession = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
