from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    false,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from upswing.core.crypto import EncryptedDate, EncryptedJSON, EncryptedText
from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow
from upswing.geo.geocode import coordinates
from upswing.lead.pii import CONTACT_FIELDS, blind_indexes


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    PROMISE = "promise"
    PAYING = "paying"
    RESOLVED = "resolved"
    LOST = "lost"


class SecondSpecStatus(StrEnum):
    """The second spec's lead statuses that are not ours (its ``new``, ``contacted`` and ``lost`` are)."""

    QUALIFIED = "qualified"
    CONVERTED = "converted"


#: The second spec's statuses on ours (docs/second-spec.md): ``qualified`` is a lead worth working, which every lead
#: in the book is (a discovered prospect is qualified by its approval); ``converted``: a promise, payments, resolved.
SECOND_SPEC_STATUSES: dict[str, tuple[LeadStatus, ...]] = {
    SecondSpecStatus.QUALIFIED.value: (LeadStatus.NEW,),
    SecondSpecStatus.CONVERTED.value: (LeadStatus.PROMISE, LeadStatus.PAYING, LeadStatus.RESOLVED),
}


def lead_statuses(status: str) -> tuple[LeadStatus, ...]:
    """Our statuses a status name stands for: ours for themselves, the second spec's by the map above."""
    return SECOND_SPEC_STATUSES.get(status) or (LeadStatus(status),)


#: ``leads.review_state`` values of discovered prospects that are no one's work yet (or never): not in lead lists,
#: their signals held out of every channel.
HELD_REVIEW_STATES = ("pending", "rejected")


class Portfolio(Base):
    """A book of leads (the second spec calls it an "investigation")."""

    __tablename__ = "portfolios"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("portfolio_id", "external_id"),
        Index("ix_leads_linkedin_public_id", "linkedin_public_id"),
        Index("ix_leads_email_bidx", "email_bidx"),
        Index("ix_leads_phone_bidx", "phone_bidx"),
        Index("ix_leads_assignee_id", "assignee_id"),
        Index("ix_leads_team_id", "team_id"),
        Index("ix_leads_status", "status"),
        # Merged leads only (a handful): the lists' "merged_into_id IS NULL" must not be answered from it.
        Index("ix_leads_merged_into_id", "merged_into_id", postgresql_where=text("merged_into_id IS NOT NULL"),
              sqlite_where=text("merged_into_id IS NOT NULL")),
        # The lead list's order (most delinquent first), whole book and per assignee and team (migration 0016).
        Index("ix_leads_list", text("(-coalesce(days_delinquent, -1))"), "external_id", "id",
              postgresql_where=text("merged_into_id IS NULL"), sqlite_where=text("merged_into_id IS NULL")),
        Index("ix_leads_list_assignee", "assignee_id", text("(-coalesce(days_delinquent, -1))"), "external_id", "id",
              postgresql_where=text("merged_into_id IS NULL"), sqlite_where=text("merged_into_id IS NULL")),
        Index("ix_leads_list_team", "team_id", text("(-coalesce(days_delinquent, -1))"), "external_id", "id",
              postgresql_where=text("merged_into_id IS NULL"), sqlite_where=text("merged_into_id IS NULL")),
        # Sync clients' order: what changed since (sort=updated_at, updated_since; migration 0023).
        Index("ix_leads_updated_at", "updated_at", "id"),
        # Discovered prospects only (a handful beside the book): the review queue (migration 0029).
        Index("ix_leads_review_state", "review_state", postgresql_where=text("review_state IS NOT NULL"),
              sqlite_where=text("review_state IS NOT NULL")),
        # Radius search's bounding-box prefilter (geo/distance.py; migration 0026). On PostgreSQL it also holds what
        # the list's radius query reads besides the coordinates (id, merge and owner columns): an index-only scan,
        # no visit to the scattered rows of an area (6 times faster at a million leads, cold).
        Index("ix_leads_latitude_longitude", "latitude", "longitude",
              postgresql_include=["id", "merged_into_id", "assignee_id", "team_id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    middle_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    # PII is encrypted at rest (docs/security.md); the *_bidx columns are blind indexes (HMAC) for exact
    # look-ups, kept in step on every ORM write by the events below (bulk writes: ``pii.with_blind_indexes``).
    # City, state and postal code stay in clear: blocking, time zones and the compliance guard need them.
    email: Mapped[str | None] = mapped_column(EncryptedText("leads.email"))
    emails: Mapped[list[str]] = mapped_column(EncryptedJSON("leads.emails"), default=list)
    phone: Mapped[str | None] = mapped_column(EncryptedText("leads.phone"))
    phones: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("leads.phones"), default=list)
    address: Mapped[str | None] = mapped_column(EncryptedText("leads.address"))
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate("leads.birth_date"))
    email_bidx: Mapped[str | None] = mapped_column(String(32))
    phone_bidx: Mapped[str | None] = mapped_column(String(32))
    #: Blind indexes of every e-mail and phone of the lead (``emails``/``phones`` included), sorted.
    contact_bidx: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    city: Mapped[str | None] = mapped_column(String(120))
    #: USPS code, US leads only (US rules key on it); ``region`` is the state, province or region as the import
    #: file gave it (any country) and ``region_code`` its ISO 3166-2 code (``US-TX``, ``CA-ON``) when it is one.
    state: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(120))
    region_code: Mapped[str | None] = mapped_column(String(6))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    #: Centroid of the lead's ZIP code, city or state (``geo_precision``: zip, city, state), never the street
    #: address: in clear, like the city. Kept in step with city/state/postal code/country (geo/geocode.py).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    geo_precision: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    linkedin_public_id: Mapped[str | None] = mapped_column(String(200))
    employer: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    # Column names as the spec writes them; the second spec's CRM fields use these names.
    company_domain: Mapped[str | None] = mapped_column("companyDomain", String(255))
    company_about: Mapped[str | None] = mapped_column("companyAbout", Text)
    balance: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    days_delinquent: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.NEW.value)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    #: Set when this lead was merged into another (a duplicate); merged leads are left out of lead search.
    #: No foreign key: adding one to ``leads`` on SQLite means rebuilding the table, whose DROP would cascade
    #: to every lead's signals. The merge service keeps it consistent (``lead_merges`` has the foreign keys).
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: In a running experiment's control group (experiment/): its new signals are held out of alerts, digests,
    #: CRM pushes and the feed. Set and cleared by the experiment service only.
    holdout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: ``person`` (a borrower) or ``company`` (a business: its name is ``first_name`` and ``employer``).
    kind: Mapped[str] = mapped_column(String(10), default="person", server_default=text("'person'"))
    #: Found by discovery (discovery/, migration 0029): a prospect company, not a row of a lead file.
    discovered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: A discovered prospect's review (None: not a prospect). ``pending`` and ``rejected`` prospects are no one's
    #: work: left out of lead lists, and their signals are held out (``signals.holdout``) of the feed, alerts,
    #: digests, escalations and CRM pushes; ``approved`` ones are leads like any other.
    review_state: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return full_name(self.first_name, self.middle_name, self.last_name)


class LeadCrmId(Base):
    """The lead's record id in an outside system (``hubspot``, ``salesforce``, a team's own CRM): set by the CRM
    connectors when they link a lead, or by a CRM through the API; one lead per id in each system."""

    __tablename__ = "lead_crm_ids"
    __table_args__ = (UniqueConstraint("system", "crm_id", name="uq_lead_crm_ids_system_crm_id"),)

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    system: Mapped[str] = mapped_column(String(40), primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def full_name(first: str | None, middle: str | None, last: str | None) -> str:
    """A lead's name as shown: the parts it has, in order (also for rows read without the ORM object)."""
    return " ".join(part for part in (first, middle, last) if part)


@event.listens_for(Lead, "before_insert")
def _index_new_lead(_mapper: Mapper[Lead], _connection: Connection, lead: Lead) -> None:
    _set_blind_indexes(lead)
    if lead.latitude is None:
        _set_coordinates(lead)


@event.listens_for(Lead, "before_update")
def _index_changed_lead(_mapper: Mapper[Lead], _connection: Connection, lead: Lead) -> None:
    state = inspect(lead)
    if any(state.attrs[name].history.has_changes() for name in CONTACT_FIELDS):
        _set_blind_indexes(lead)
    if (any(state.attrs[name].history.has_changes() for name in LOCATION_FIELDS)
            and not state.attrs["latitude"].history.has_changes()):
        _set_coordinates(lead)


#: The columns a lead's coordinates are geocoded from.
LOCATION_FIELDS = ("city", "state", "postal_code", "country")


def _set_coordinates(lead: Lead) -> None:
    lead.latitude, lead.longitude, lead.geo_precision = coordinates(lead.city, lead.state, lead.postal_code,
                                                                    lead.country)


def _set_blind_indexes(lead: Lead) -> None:
    for name, value in blind_indexes(lead.email, lead.emails, lead.phone, lead.phones).items():
        if getattr(lead, name) != value:
            setattr(lead, name, value)


class MergeStatus(StrEnum):
    PROPOSED = "proposed"
    APPLIED = "applied"
    UNDONE = "undone"
    REJECTED = "rejected"


class LeadMerge(Base):
    """A proposed, applied, undone or rejected merge of a duplicate lead into the lead that survives.

    ``snapshot`` (set when applied) holds what undo needs to restore the rows exactly: the merged lead's
    row, the ids of the rows moved to the survivor, and the full rows of signals that were combined.
    A rejected merge remembers that the two leads are different people, so dedupe does not propose them again.
    """

    __tablename__ = "lead_merges"
    __table_args__ = (
        Index("ix_lead_merges_portfolio_id_status", "portfolio_id", "status"),
        Index("ix_lead_merges_survivor_id", "survivor_id"),
        Index("ix_lead_merges_merged_id", "merged_id"),
        CheckConstraint("status IN ('proposed', 'applied', 'undone', 'rejected')", name="status"),
        CheckConstraint("survivor_id <> merged_id", name="distinct_leads"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    survivor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    merged_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    #: Match probability (0–1) from the dedupe model.
    score: Mapped[float] = mapped_column(Float)
    #: ``{"weight", "agreed": {field: detail}, "disagreed": {field: detail}}``.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=MergeStatus.PROPOSED.value)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(200))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
