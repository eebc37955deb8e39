from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from upswing.core.pagination import COUNT_CAP, count_field, cursor_field, offset_field
from upswing.core.timeparse import LooseDatetime
from upswing.geo.distance import MAX_RADIUS_KM
from upswing.lead.models import LeadStatus, SecondSpecStatus


class ImportRowError(BaseModel):
    row: int | None = Field(description="Row as a person sees it: CSV spreadsheet row (header = 1, first "
                                        "data row = 2); JSON item / JSONL line, 1-based")
    field: str | None = Field(description="Canonical field name, or null for a problem with the whole row")
    value: Any = Field(default=None, description="The value as found in the file (text longer than 200 "
                                               "characters is cut, ending with …)")
    message: str


class ImportReport(BaseModel):
    file: str | None = None
    format: str | None = None
    portfolio: str
    dry_run: bool = False
    skip_invalid: bool = False
    total: int = Field(default=0, description="Data rows read (blank rows are not counted)")
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = Field(default=0, description="Invalid rows (not written)")
    suppressed: int = Field(default=0, description="Rows about a person erased on request (not written)")
    error_count: int = Field(default=0, description="All errors found, also those beyond the `errors` list")
    errors_by_field: dict[str, int] = Field(
        default_factory=dict, description="How many errors each field has (all of them); `row` counts the errors "
                                          "about a whole row (such as extra values)")
    errors: list[ImportRowError] = Field(default_factory=list,
                                         description="The first errors, in file order: as many as "
                                                     "UPSWING_IMPORT_MAX_ERRORS (100 by default)")
    warnings: list[str] = Field(default_factory=list)
    encoding: str | None = Field(default=None, description="Text encoding the file was read with (given, or "
                                                           "detected: utf-8, utf-8-sig, utf-16, cp1252, "
                                                           "iso8859-1); null for XLSX and row lists")
    rejects_file: str | None = Field(default=None,
                                     description="Path of the CSV of rejected rows (with skip_invalid): "
                                                 "<file name without extension>.rejects.csv beside the file")


#: An outside system's name: lower-case letters, digits and underscores (hubspot, salesforce, my_crm).
CRM_SYSTEM_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
#: ``system:id``, the lead list's ``crm_id`` filter.
CRM_REF_PATTERN = r"^[a-z][a-z0-9_]{1,39}:\S{1,120}$"
#: ``latitude,longitude`` in decimal degrees (the lead list's ``near``).
NEAR_PATTERN = r"^\s*[+-]?\d{1,2}(\.\d+)?\s*,\s*[+-]?\d{1,3}(\.\d+)?\s*$"
CrmSystemName = Annotated[str, StringConstraints(pattern=CRM_SYSTEM_PATTERN)]
CrmIds = dict[CrmSystemName, Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
              | None]


class LeadQuery(BaseModel):
    """Which leads: the lead list's filters (the list and the CSV export take the same ones)."""

    q: str | None = Field(default=None, max_length=200,
                          description="Search a part of the name or external id, or an exact e-mail or phone "
                                      "number (e-mails and phones are encrypted: no partial match)")
    status: LeadStatus | SecondSpecStatus | None = Field(default=None, description=(
        "A status; the second spec's qualified (= new) and converted (= promise, paying or resolved) too"))
    portfolio: str | None = Field(default=None, description="Portfolio name")
    assignee_id: uuid.UUID | None = None
    assignee: str | None = Field(
        default=None, max_length=120,
        description="me: the caller's leads; none: leads nobody is assigned to; or a user's id or username")
    team_id: uuid.UUID | None = None
    state: str | None = Field(default=None, min_length=2, max_length=2)
    min_days_delinquent: int | None = Field(default=None, ge=0, le=100_000)
    crm_id: str | None = Field(
        default=None, max_length=161, pattern=CRM_REF_PATTERN,
        description="The lead with this id in an outside system, as system:id (hubspot:5101, salesforce:00Q…)")
    updated_since: LooseDatetime | None = Field(
        default=None, description="Only leads changed at or after this time (without a zone: UTC); for sync, "
                                  "with sort=updated_at")
    near: str | None = Field(
        default=None, max_length=60, pattern=NEAR_PATTERN,
        description="Only leads within radius_km of this point, as latitude,longitude in decimal degrees "
                    "(30.27,-97.74): great-circle distance to the lead's ZIP, city or state centroid (docs/geo.md); "
                    "the list is then nearest first unless sort is given")
    radius_km: float | None = Field(default=None, gt=0, le=MAX_RADIUS_KM,
                                    description="The radius for near, in km (needed with near; "
                                                "ignored without it)")

    @field_validator("near")
    @classmethod
    def _near_in_range(cls, value: str | None) -> str | None:
        if value is not None:
            latitude, longitude = (float(part) for part in value.split(","))
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError("latitude must be within ±90 and longitude within ±180")
        return value

    def near_point(self) -> tuple[float, float] | None:
        if self.near is None:
            return None
        latitude, longitude = (float(part) for part in self.near.split(","))
        return latitude, longitude


class LeadFilters(LeadQuery):
    sort: Literal["-days_delinquent", "days_delinquent", "updated_at", "distance"] = Field(
        default="-days_delinquent", description="-days_delinquent: most delinquent first (no figure last); "
                                                "days_delinquent: least delinquent first; then external id; "
                                                "distance: nearest first (with near, where it is the "
                                                "default; without near, the default order); "
                                                "updated_at: least recently changed first (sync: follow next_cursor "
                                                "to the end, then ask again with updated_since)")
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = offset_field()
    cursor: str | None = cursor_field()
    count: bool = count_field()


class LeadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    portfolio_id: uuid.UUID
    external_id: str
    first_name: str
    middle_name: str | None
    last_name: str
    full_name: str
    email: str | None
    phone: str | None
    phones: list[dict[str, Any]]
    address: str | None
    birth_date: date | None = None
    city: str | None
    state: str | None = Field(description="USPS code (US leads only)")
    region: str | None = Field(default=None, description="State, province or region as the import file gave it")
    region_code: str | None = Field(default=None, description="ISO 3166-2 code of the region (US-TX, CA-ON), "
                                                              "when it is one")
    postal_code: str | None
    country: str | None
    timezone: str | None
    linkedin_url: str | None
    employer: str | None
    title: str | None
    company_domain: str | None = Field(serialization_alias="companyDomain")
    company_about: str | None = Field(serialization_alias="companyAbout")
    balance: Decimal | None
    days_delinquent: int | None
    status: LeadStatus
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    portfolio_name: str | None = Field(default=None, description="The portfolio's name")
    assignee_name: str | None = Field(default=None, description="The assignee's full name (else username)")
    team_name: str | None = Field(default=None, description="The team's name")
    crm_ids: dict[str, str] = Field(default_factory=dict, description=(
        "The lead's record id per outside system (hubspot, salesforce, …): set by the CRM connectors and by CRMs"))
    latitude: float | None = Field(default=None, description="Centroid of the lead's ZIP code, city or state "
                                                             "(geo_precision), never the street address")
    longitude: float | None = None
    geo_precision: str | None = Field(default=None, description="zip, city or state; null: not geocoded")
    distance_km: float | None = Field(default=None, description="Distance from the list's near point, km "
                                                                "(null without near)")


class LeadPage(BaseModel):
    items: list[LeadRead]
    total: int | None = Field(description=f"Matching leads, counted up to {COUNT_CAP:,} when asked (count=true), "
                                          "else null (next_cursor says whether there is more)")
    total_is_exact: bool | None = Field(description=f"false: there are more than {COUNT_CAP:,}; null: not counted")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="Pass as cursor= for the next page; null on the last page")


class LeadUpdate(BaseModel):
    status: LeadStatus | None = None
    assignee: str | None = Field(default=None, description="Username; managers and admins only")
    team: str | None = Field(default=None, description="Team name; managers and admins only")
    crm_ids: CrmIds | None = Field(default=None, description=(
        "Record ids in outside systems to set ({\"hubspot\": \"5101\"}); null for a system removes its id; "
        "systems not named are kept"))


#: The most leads one bulk assignment changes (one transaction, one audit entry per lead).
MAX_BULK_ASSIGN = 500


class LeadAssign(BaseModel):
    """Assign (or unassign) many leads at once: one transaction, each changed lead audited."""

    model_config = ConfigDict(extra="forbid")

    lead_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK_ASSIGN,
                                      description=f"The leads (at most {MAX_BULK_ASSIGN}; repeats count once)")
    assignee: str | None = Field(max_length=120, description="Username of an active user; null: unassign")
    team: str | None = Field(default=None, max_length=200,
                             description="Team name (default: the assignee's team when they have one, else each "
                                         "lead keeps its team)")


class LeadAssignResult(BaseModel):
    updated: int = Field(description="Leads whose assignee or team changed")
    unchanged: int = Field(description="Leads that already had this assignee and team")
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None


class PortfolioRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


class AssigneeRead(BaseModel):
    """A user leads can be assigned to."""

    id: uuid.UUID
    username: str
    full_name: str | None
    role: str
    team_id: uuid.UUID | None
    team_name: str | None


#: The most leads one bulk upsert writes (one transaction).
MAX_BULK_UPSERT = 1000


class LeadUpsertItem(BaseModel):
    """One lead of a bulk upsert: the lead file's columns as JSON. Only the fields sent are written (a field sent
    as null clears it); values are checked as an import checks them."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=120, description="The lead's id in the portfolio (the key)")
    first_name: str | None = Field(default=None, max_length=200)
    middle_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    phone_type: str | None = Field(default=None, max_length=20, description="mobile, landline or voip")
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=200)
    state: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    linkedin_url: str | None = Field(default=None, max_length=500)
    employer: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    balance: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999999.99"))
    days_delinquent: int | None = Field(default=None, ge=0, le=100_000)
    assignee: str | None = Field(default=None, max_length=120, description="Username")
    team: str | None = Field(default=None, max_length=200, description="Team name")
    birth_date: date | None = None
    crm_ids: CrmIds | None = Field(default=None, description="Record ids in outside systems to set (null: remove)")


class LeadUpsert(BaseModel):
    """Create or update many leads by external id, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    portfolio: str = Field(default="default", min_length=1, max_length=200)
    items: list[LeadUpsertItem] = Field(min_length=1, max_length=MAX_BULK_UPSERT,
                                        description=f"At most {MAX_BULK_UPSERT}; an external id at most once")
    dry_run: bool = Field(default=False, description="Check and count, write nothing")


class LeadUpsertOutcome(BaseModel):
    row: int = Field(description="The item's position in the request, from 1")
    external_id: str
    id: uuid.UUID | None = Field(description="The lead's id (null: not written, see result)")
    result: Literal["created", "updated", "unchanged", "suppressed"] = Field(
        description="suppressed: the person was erased on request and is not stored again")


class LeadUpsertResult(BaseModel):
    report: ImportReport
    items: list[LeadUpsertOutcome]
