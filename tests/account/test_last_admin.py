"""There is always an active admin: the last one can be neither demoted nor deactivated, by themselves or anyone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account import service
from upswing.account.models import Role, User
from upswing.account.schemas import UserUpdate
from upswing.audit.models import AuditEntry
from upswing.core.errors import ConflictError


def test_last_active_admin_cannot_demote_or_deactivate_themselves(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    for change in ({"role": "manager"}, {"is_active": False}, {"role": "viewer", "is_active": False}):
        response = client.patch(f"/api/v1/users/{admin.id}", headers=auth(app, admin), json=change)
        assert response.status_code == 409, change
        assert "last active admin" in response.json()["detail"]
    db_session.expire_all()
    assert (admin.role, admin.is_active) == ("admin", True)
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).all() == []
    # Changes that keep them an active admin still work.
    assert client.patch(f"/api/v1/users/{admin.id}", headers=auth(app, admin),
                        json={"role": "admin", "is_active": True, "team": None}).status_code == 200


def test_an_inactive_admin_does_not_count(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    make_user(db_session, Role.ADMIN).is_active = False
    db_session.commit()
    assert client.patch(f"/api/v1/users/{admin.id}", headers=auth(app, admin),
                        json={"role": "agent"}).status_code == 409


def test_with_another_active_admin_one_may_step_down_then_the_other_is_the_last(app: Any, client: Any,
                                                                                db_session: Session) -> None:
    first, second = make_user(db_session, Role.ADMIN), make_user(db_session, Role.ADMIN)
    db_session.commit()
    assert client.patch(f"/api/v1/users/{first.id}", headers=auth(app, first),
                        json={"role": "manager"}).status_code == 200
    assert client.patch(f"/api/v1/users/{second.id}", headers=auth(app, second),
                        json={"is_active": False}).status_code == 409
    # Demoting or deactivating people who are not admins, or inactive admins, is unaffected.
    agent = make_user(db_session, Role.AGENT)
    db_session.commit()
    assert client.patch(f"/api/v1/users/{agent.id}", headers=auth(app, second),
                        json={"is_active": False}).status_code == 200


def test_nobody_may_leave_the_system_without_an_active_admin(db_session: Session) -> None:
    """Also from outside the API (a CLI or script acting as the system)."""
    admin = make_user(db_session, Role.ADMIN)
    with pytest.raises(ConflictError, match="last active admin"):
        service.update_user(db_session, admin.id, UserUpdate(role=Role.VIEWER), actor="cli:ops")
    retired = make_user(db_session, Role.ADMIN)
    retired.is_active = False
    db_session.flush()
    service.update_user(db_session, retired.id, UserUpdate(role=Role.VIEWER), actor="cli:ops")  # inactive: fine
    assert db_session.get(User, retired.id).role == "viewer"  # type: ignore[union-attr]
