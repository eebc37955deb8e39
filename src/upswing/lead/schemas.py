from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from upswing.core.pagination import COUNT_CAP, count_field, cursor_field, offset_field
from upswing.lead.models import LeadStatus


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


class LeadQuery(BaseModel):
    """Which leads: the lead list's filters (the list and the CSV export take the same ones)."""

    q: str | None = Field(default=None, max_length=200,
                          description="Search a part of the name or external id, or an exact e-mail or phone "
                                      "number (e-mails and phones are encrypted: no partial match)")
    status: LeadStatus | None = None
    portfolio: str | None = Field(default=None, description="Portfolio name")
    assignee_id: uuid.UUID | None = None
    assignee: str | None = Field(
        default=None, max_length=120,
        description="me: the caller's leads; none: leads nobody is assigned to; or a user's id or username")
    team_id: uuid.UUID | None = None
    state: str | None = Field(default=None, min_length=2, max_length=2)
    min_days_delinquent: int | None = Field(default=None, ge=0, le=100_000)


class LeadFilters(LeadQuery):
    sort: Literal["-days_delinquent", "days_delinquent"] = Field(
        default="-days_delinquent", description="-days_delinquent: most delinquent first (no figure last); "
                                                "days_delinquent: least delinquent first; then external id")
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
