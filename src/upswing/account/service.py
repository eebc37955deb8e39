from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import Team, User
from upswing.account.schemas import UserCreate, UserUpdate
from upswing.account.security import hash_password, verify_password
from upswing.audit import service as audit
from upswing.core.errors import ConflictError, NotFoundError

# A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = hash_password("not-a-real-password")


def get_or_create_team(session: Session, name: str, *, actor: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
        audit.record(session, actor=actor, action="team.create", entity_type="team", entity_id=team.id,
                     details={"name": name})
    return team


def get_team_by_name(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFoundError(f"team '{name}' does not exist")
    return team


def create_user(session: Session, data: UserCreate, *, actor: str) -> User:
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise ConflictError(f"user '{data.username}' already exists")
    team = get_or_create_team(session, data.team, actor=actor) if data.team else None
    user = User(username=data.username, email=data.email, full_name=data.full_name,
                password_hash=hash_password(data.password), role=data.role.value,
                team_id=team.id if team else None)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", entity_type="user", entity_id=user.id,
                 details={"username": user.username, "role": user.role, "team": data.team})
    return user


def update_user(session: Session, user_id: uuid.UUID, data: UserUpdate, *, actor: str) -> User:
    user = get_user(session, user_id)
    changes: dict[str, object] = {}
    if data.role is not None and data.role.value != user.role:
        user.role = changes["role"] = data.role.value
    if data.team is not None:
        team = get_team_by_name(session, data.team)
        if team.id != user.team_id:
            user.team_id = team.id
            changes["team"] = team.name
    if data.is_active is not None and data.is_active != user.is_active:
        user.is_active = changes["is_active"] = data.is_active
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        changes["password"] = "changed"  # noqa: S105 - records that it changed, not the value
    if changes:
        audit.record(session, actor=actor, action="user.update", entity_type="user", entity_id=user.id,
                     details=changes)
    session.flush()
    return user


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not user.is_active or not verify_password(password, user.password_hash):
        return None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))
