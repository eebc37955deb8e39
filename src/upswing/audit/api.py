"""HTTP endpoints of the audit domain (thin: the service holds the logic). Admins only: the log says who
looked at and changed what, which is itself sensitive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from upswing.account.deps import Admin
from upswing.audit import service
from upswing.audit.schemas import AuditEntryRead, AuditFilters, AuditPage, ChainVerification
from upswing.core.deps import AUDITED_READ, DbSession

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("", response_model=AuditPage, operation_id="audit_list")
def list_entries(_: Admin, session: DbSession, filters: Annotated[AuditFilters, Query()]) -> AuditPage:
    """Entries matching every filter given, newest first."""
    entries, total = service.list_entries(
        session, entity_type=filters.entity_type, entity_id=filters.entity_id, actor=filters.actor,
        action=filters.action, since=_utc(filters.since), until=_utc(filters.until), limit=filters.limit,
        offset=filters.offset)
    return AuditPage(items=[AuditEntryRead.model_validate(e) for e in entries], total=total, limit=filters.limit,
                     offset=filters.offset)


@router.get("/verify", response_model=ChainVerification, operation_id="audit_verify", openapi_extra=AUDITED_READ)
def verify(_: Admin, session: DbSession) -> ChainVerification:
    """Seal what was appended so far, then check the whole hash chain; ``first_broken_id`` names the first entry
    that was tampered with."""
    service.seal_all(session)
    session.commit()
    report = service.verify(session)
    return ChainVerification(intact=report.intact, entries=report.entries, first_broken_id=report.first_broken_id,
                             last_id=report.last_id, last_hash=report.last_hash)
