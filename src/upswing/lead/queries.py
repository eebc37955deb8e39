"""SQL look-ups of leads by a contact value (through the blind indexes of ``lead.pii``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session

from upswing.core.identifiers import normalize_phone
from upswing.lead.models import Lead
from upswing.lead.pii import email_index, phone_index


def _contact_clause(session: Session, index: str) -> ColumnElement[bool]:
    column: InstrumentedAttribute[Any] = Lead.contact_bidx
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, JSONB).contains([index])
    entries = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(entries).where(entries.c.value == index))


def has_email(session: Session, email: str) -> ColumnElement[bool]:
    """Leads with this e-mail among any of theirs (case and surrounding spaces do not matter)."""
    return _contact_clause(session, email_index(email))


def has_phone(session: Session, phone: str) -> ColumnElement[bool]:
    """Leads with this phone among any of theirs; the number is normalized to E.164 first (US by default)."""
    try:
        phone = normalize_phone(phone.strip())
    except ValueError:
        phone = phone.strip()
    return _contact_clause(session, phone_index(phone))
