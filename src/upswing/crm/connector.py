"""The one interface every CRM connector implements (HubSpot, Salesforce), and the registry that finds them.

A connector knows how to talk to one CRM's API. It never touches the database: the sync service
(``crm/service.py``) decides what to push and records what came back (remote ids, cursors, conflicts), so a
connector can be driven against a fake server in a test exactly as against the real one. Every call goes
through the ``httpx.Client`` the connector is given; the connector reads the CRM's rate-limit answers itself
(429 + ``Retry-After``, HubSpot's ``X-HubSpot-RateLimit-*``, Salesforce's ``Sforce-Limit-Info``) and reports its
API usage in ``usage``.

Pushes must be safe to repeat after a crash: a lead is found by our external id before it is created (or
upserted by it), and a signal's note/task carries the signal id so a repeat finds the record it made the first
time instead of making a second one.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

import httpx

__all__ = [
    "CONNECTORS",
    "ChangeKind",
    "CrmConnector",
    "CrmError",
    "LeadRecord",
    "RateLimited",
    "RemoteChange",
    "RemoteRecord",
    "SignalPush",
    "SignalRecord",
    "Usage",
    "WebhookRejected",
    "register",
]


class CrmError(RuntimeError):
    """The CRM refused a call for good (bad credentials, a validation error on a record): not worth retrying as is."""


class RateLimited(CrmError):
    """The CRM asked us to slow down (429, or the daily budget is spent); try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WebhookRejected(CrmError):
    """An inbound webhook whose signature, timestamp or body does not check out (answered 401, never applied)."""


@dataclass(frozen=True)
class LeadRecord:
    """What Upswing writes on the CRM's contact/lead for one of our leads (only the fields Upswing owns)."""

    lead_id: uuid.UUID
    external_id: str  # the lending system's account id (also shown in the CRM)
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    #: ``upswing_score``, ``upswing_priority``, ``upswing_last_signal_type``, ``upswing_last_signal_at``,
    #: ``upswing_contactable_from`` (ISO strings or None).
    properties: Mapping[str, str | None] = field(default_factory=dict)
    owner_remote_id: str | None = None  # the CRM user who owns the record (from the owner map)


@dataclass(frozen=True)
class SignalRecord:
    """One signal pushed as a note (HubSpot) and/or a task (HubSpot for urgent/high; Salesforce always)."""

    signal_id: uuid.UUID
    lead_id: uuid.UUID
    type: str
    priority: str  # urgent | high | medium | low
    score: float
    summary: str  # one line for people: "New job: Data Analyst at HubSpot (score 82)"
    detail: str  # the note body: evidence snippet, source link, the contact guard's answer in words
    detected_at: datetime
    due_at: datetime | None  # when the contact guard next allows contact (a task's due date)
    make_task: bool
    owner_remote_id: str | None = None


@dataclass(frozen=True)
class SignalPush:
    """What a signal became in the CRM."""

    remote_lead_id: str
    note_id: str | None = None
    task_id: str | None = None


class ChangeKind(StrEnum):
    TASK_COMPLETED = "task_completed"  # a task we made was completed in the CRM
    FIELD_CHANGED = "field_changed"  # a mapped field changed on the contact/lead (owner, status, …)


@dataclass(frozen=True)
class RemoteChange:
    """One change made in the CRM that Upswing may need to apply."""

    event_id: str  # unique per change (HubSpot eventId; Salesforce record id + LastModifiedDate): dedupe key
    kind: ChangeKind
    remote_lead_id: str | None
    lead_id: uuid.UUID | None  # our id, when the record carries it (``upswing_lead_id``)
    signal_id: uuid.UUID | None = None  # for a task: the signal it was made for
    field: str | None = None  # the CRM's field name (``hubspot_owner_id``, ``OwnerId``, ``lifecyclestage``…)
    value: Any = None
    changed_at: datetime | None = None
    #: True when the CRM says the change came from our own integration (echo: not to be imported back).
    by_us: bool = False


@dataclass(frozen=True)
class RemoteRecord:
    """A contact/lead as the CRM holds it now, in our terms (for reconcile)."""

    remote_id: str
    owner_remote_id: str | None
    status: str | None  # the CRM's lead status (HubSpot ``hs_lead_status``, Salesforce ``Status``), its own words
    #: Our properties as the CRM holds them (``upswing_score``, ``upswing_priority``…), keyed by our names.
    properties: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class Usage:
    """API calls made by this connector instance, and the CRM's last word on the remaining budget."""

    calls: int = 0
    retries_after_429: int = 0
    daily_remaining: int | None = None
    daily_limit: int | None = None


class CrmConnector(ABC):
    """One CRM. ``config`` holds the connection's settings (base URL, credentials, property names)."""

    system: ClassVar[str]

    def __init__(self, config: Mapping[str, Any], http: httpx.Client) -> None:
        self.config = config
        self.http = http
        self.usage = Usage()

    @abstractmethod
    def connect(self) -> dict[str, Any]:
        """Check the credentials and create what we need on the CRM side (custom properties/fields); idempotent.
        Returns facts for the connection's status (portal/org id, properties created)."""

    @abstractmethod
    def upsert_lead(self, lead: LeadRecord) -> str:
        """Find the CRM record by our external id (then e-mail), create it if missing, write our fields; returns
        its id."""

    @abstractmethod
    def push_signal(self, remote_lead_id: str, signal: SignalRecord) -> SignalPush:
        """Write the signal's note and task on the record, once: a repeat finds what the first call made."""

    def push_signals(self, items: Sequence[tuple[LeadRecord, SignalRecord]]) -> list[SignalPush | CrmError]:
        """Many signals at once (batch/composite endpoints where the CRM has them); one answer per item, in order,
        an error for an item that failed (the others still count)."""
        results: list[SignalPush | CrmError] = []
        for lead, signal in items:
            try:
                results.append(self.push_signal(self.upsert_lead(lead), signal))
            except RateLimited:
                raise
            except CrmError as exc:
                results.append(exc)
        return results

    @abstractmethod
    def pull_changes(self, cursor: str | None) -> tuple[list[RemoteChange], str | None]:
        """Changes since ``cursor`` (None: from now on, nothing older); the next cursor to save."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> list[RemoteChange]:
        """Verify and read an inbound webhook (raises ``WebhookRejected``); CRMs without webhooks poll instead."""
        raise WebhookRejected(f"{self.system} does not send webhooks: changes are polled")

    @abstractmethod
    def read_lead(self, external_id: str) -> dict[str, Any] | None:
        """The CRM record for our external id, with our fields and the mapped ones (for reconcile), or None."""

    @abstractmethod
    def read_records(self, remote_lead_ids: Sequence[str]) -> dict[str, RemoteRecord]:
        """These records as the CRM holds them now, by id (a record the CRM no longer has is left out), in as few
        calls as the CRM allows (``RECONCILE_BATCH`` at a time)."""

    @abstractmethod
    def signal_ids_on(self, remote_lead_ids: Sequence[str]) -> set[uuid.UUID]:
        """The ids of the signals whose note/task is on these records (for reconcile: what is missing), in as few
        calls as the CRM allows (``RECONCILE_BATCH`` records at a time)."""


#: Records a reconcile asks a connector about at once (HubSpot's batch reads take 100).
RECONCILE_BATCH = 100

CONNECTORS: dict[str, type[CrmConnector]] = {}


def register(cls: type[CrmConnector]) -> type[CrmConnector]:
    CONNECTORS[cls.system] = cls
    return cls
