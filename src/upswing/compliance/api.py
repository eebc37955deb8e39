"""HTTP endpoints of the compliance domain (thin: the service holds the logic)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile

from upswing.account.deps import Admin, AnyUser, ManagerOrAdmin, Worker
from upswing.compliance import service
from upswing.compliance.rules import Flag, RuleConfig
from upswing.compliance.schemas import (
    AnswersRequest,
    BlockedWindowCreate,
    BlockedWindowRead,
    CheckRequest,
    CheckResult,
    ConsentRead,
    ConsentRequest,
    ContactAnswers,
    ContactCreate,
    ContactImportReport,
    ContactPage,
    ContactRead,
    FlagUpdate,
    LeadFlags,
    RulesUpdate,
    SuppressionCreate,
    SuppressionRead,
)
from upswing.core.db import utcnow
from upswing.core.deps import AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.lead.access import visible_lead

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])


def _actor(user: object) -> str:
    return f"user:{getattr(user, 'username', 'unknown')}"


@router.post("/check", response_model=CheckResult, operation_id="compliance_check")
def check(body: CheckRequest, user: AnyUser, session: DbSession) -> CheckResult:
    """May this lead be contacted by this channel at this time? Every reason that applies, and from when."""
    lead = visible_lead(session, body.lead_id, user)
    decision = service.check_contact(session, lead, body.channel, body.at or utcnow(), autodialed=body.autodialed,
                                     target=body.target)
    return CheckResult.model_validate(decision.as_contract())


@router.post("/answers", response_model=ContactAnswers, operation_id="compliance_answers")
def answers(body: AnswersRequest, user: AnyUser, session: DbSession, settings: AppSettings) -> ContactAnswers:
    """The guard's answer now for up to 100 leads at once (a page of the feed), in words ("call after 8:00 am
    CT", "do not contact: cease") and per channel (call, sms, email), with each borrower's local time. Leads the
    caller may not see are left out."""
    return service.contact_answers(session, body.lead_ids, user=user, at=utcnow(),
                                   fallback_zone=user.timezone or settings.business_timezone)


@router.post("/contacts", response_model=ContactRead, status_code=201, operation_id="compliance_log_contact")
def log_contact(body: ContactCreate, user: Worker, session: DbSession) -> ContactRead:
    result = service.log_contact(session, body, actor=_actor(user), source="api", user=user)
    session.commit()
    return result


@router.get("/contacts", response_model=ContactPage, operation_id="compliance_list_contacts")
def list_contacts(user: AnyUser, session: DbSession, lead_id: uuid.UUID,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: OffsetQuery = 0) -> ContactPage:
    items, total = service.list_contacts(session, lead_id, user=user, limit=limit, offset=offset)
    return ContactPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/contacts/import", response_model=ContactImportReport, operation_id="compliance_import_contacts")
def import_contacts(user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                    file: Annotated[UploadFile, File(description="CSV, JSON or JSONL of contacts")],
                    portfolio: Annotated[str | None, Form()] = None) -> ContactImportReport:
    """All or nothing: any invalid row (reported with its row and field) means nothing is written."""
    content = file.file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        raise HTTPException(413, f"file larger than {settings.import_max_bytes} bytes")
    report = service.import_contacts(session, content, filename=file.filename or "contacts.csv",
                                     portfolio=portfolio, actor=_actor(user), user=user)
    session.commit()
    return report


@router.get("/leads/{lead_id}/flags", response_model=LeadFlags, operation_id="compliance_get_flags")
def get_flags(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadFlags:
    return service.lead_flags(session, visible_lead(session, lead_id, user))


@router.put("/leads/{lead_id}/flags/{flag}", response_model=LeadFlags, operation_id="compliance_set_flag")
def set_flag(lead_id: uuid.UUID, flag: Flag, body: FlagUpdate, user: Worker, session: DbSession) -> LeadFlags:
    """Set (``active: true``) or clear a flag; clearing is for managers and admins."""
    lead = visible_lead(session, lead_id, user)
    result = service.set_flag(session, lead, flag, active=body.active, note=body.note, actor=_actor(user), user=user)
    session.commit()
    return result


@router.post("/consents", response_model=list[ConsentRead], operation_id="compliance_record_consent")
def record_consent(body: ConsentRequest, user: Worker, session: DbSession) -> list[ConsentRead]:
    lead = visible_lead(session, body.lead_id, user)
    result = service.record_consent(session, lead, body.target, action=body.action, source=body.source,
                                    actor=_actor(user))
    session.commit()
    return result


@router.get("/leads/{lead_id}/consents", response_model=list[ConsentRead], operation_id="compliance_list_consents")
def list_consents(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> list[ConsentRead]:
    return service.list_consents(session, visible_lead(session, lead_id, user))


@router.post("/suppressions", response_model=SuppressionRead, status_code=201,
             operation_id="compliance_add_suppression")
def add_suppression(body: SuppressionCreate, user: Worker, session: DbSession) -> SuppressionRead:
    """An opt-out: the number or address is never contacted again, whichever lead it belongs to. Agents name
    the lead (one of theirs) whose number or address it is; managers and admins may suppress any."""
    result = service.suppress(session, body.target, reason=body.reason, source="api", actor=_actor(user),
                              user=user, lead_id=body.lead_id)
    session.commit()
    return result


@router.delete("/suppressions/{suppression_id}", status_code=204, operation_id="compliance_remove_suppression")
def remove_suppression(suppression_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession,
                       reason: Annotated[str, Query(min_length=5, max_length=2000,
                                                    description="Why (audited)")]) -> None:
    """Take a number or address off the suppression list (the consumer asked to be contacted again, or a
    mistake); audited with the reason."""
    service.remove_suppression(session, suppression_id, reason=reason, actor=_actor(user))
    session.commit()


@router.get("/suppressions", response_model=list[SuppressionRead], operation_id="compliance_list_suppressions")
def list_suppressions(user: ManagerOrAdmin, session: DbSession,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      offset: OffsetQuery = 0) -> list[SuppressionRead]:
    items, _ = service.list_suppressions(session, limit=limit, offset=offset)
    return items


@router.get("/leads/{lead_id}/blocked-windows", response_model=list[BlockedWindowRead],
            operation_id="compliance_list_blocked_windows")
def list_blocked_windows(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> list[BlockedWindowRead]:
    return service.list_blocked_windows(session, visible_lead(session, lead_id, user))


@router.post("/leads/{lead_id}/blocked-windows", response_model=BlockedWindowRead, status_code=201,
             operation_id="compliance_add_blocked_window")
def add_blocked_window(lead_id: uuid.UUID, body: BlockedWindowCreate, user: Worker,
                       session: DbSession) -> BlockedWindowRead:
    """A time the consumer said is inconvenient (their local time), e.g. no calls 12:00–13:00 on weekdays."""
    lead = visible_lead(session, lead_id, user)
    result = service.add_blocked_window(session, lead, body, actor=_actor(user))
    session.commit()
    return result


@router.delete("/blocked-windows/{window_id}", status_code=204, operation_id="compliance_remove_blocked_window")
def remove_blocked_window(window_id: uuid.UUID, user: Worker, session: DbSession) -> None:
    service.remove_blocked_window(session, window_id, actor=_actor(user), user=user)
    session.commit()


@router.get("/rules", response_model=RuleConfig, operation_id="compliance_get_rules")
def get_rules(user: Admin, session: DbSession) -> RuleConfig:
    return service.get_rules(session)


@router.put("/rules", response_model=RuleConfig, operation_id="compliance_update_rules")
def update_rules(body: RulesUpdate, user: Admin, session: DbSession) -> RuleConfig:
    """Change rule settings (audited); a null value restores a setting's default."""
    result = service.update_rules(session, body.changes, actor=_actor(user))
    session.commit()
    return result
