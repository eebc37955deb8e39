"""HubSpot (CRM v3) connector (``shared/reference/external-apis.md`` §5a).

Config keys:

* ``base_url`` (default ``https://api.hubapi.com``);
* credentials: ``access_token`` (a private-app token), or OAuth ``client_id`` + ``client_secret`` +
  ``refresh_token`` (and ``token_url``, default ``{base_url}/oauth/v1/token``): the access token is refreshed
  before it expires (``expires_in``) and once on a 401; a private-app 401 is final;
* ``client_secret``: the app secret that signs webhooks (signature v3);
* ``external_id_property`` (default ``upswing_lead_id``): the contact property holding our lead id;
* optional: ``app_id`` (our app, for echo suppression when a webhook's ``appId`` is not ours), ``mapped_fields``
  (contact properties whose changes are imported; default owner, lifecycle stage, lead status),
  ``max_retries_429`` (4), ``max_backoff_s`` (10), ``search_per_s`` (4).

Where a signal's id lives: the reference describes custom properties on contacts only, not on notes or tasks, so a
note's ``hs_note_body`` and a task's ``hs_task_body`` end with the marker ``[upswing:<signal id>]``. A repeat finds
what the first push made by reading the contact's associated notes and tasks (v4 batch association read, then a
batch read of their bodies) rather than by searching for the marker: associations are read-after-write consistent,
where HubSpot's search index lags writes (a repeat right after a crash could miss the first note) and search has
its own low rate limit (4–5 requests per second).

Rate limits: every answer's ``X-HubSpot-RateLimit-Daily(-Remaining)`` is reported in ``usage``. A 429 is retried
after its ``Retry-After`` if any, else after the policy's window (``SECONDLY``: 1 s; ``TEN_SECONDLY_ROLLING``:
``X-HubSpot-RateLimit-Interval-Milliseconds``), sleeping at most ``max_backoff_s`` each time and at most
``max_retries_429`` times, then ``RateLimited``; a ``DAILY`` 429 raises at once, to retry at the next UTC midnight.
Searches are paced to ``search_per_s``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import math
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote

import httpx
import orjson

from upswing.crm.connector import (
    ChangeKind,
    CrmConnector,
    CrmError,
    LeadRecord,
    RateLimited,
    RemoteChange,
    RemoteRecord,
    SignalPush,
    SignalRecord,
    WebhookRejected,
    register,
)

__all__ = ["ACCOUNT_PROPERTY", "HubSpotConnector", "signal_marker"]

DEFAULT_BASE_URL = "https://api.hubapi.com"
ACCOUNT_PROPERTY = "upswing_account_id"  # the lending system's account id (LeadRecord.external_id), for people
DEFAULT_MAPPED_FIELDS = ("hubspot_owner_id", "lifecyclestage", "hs_lead_status")
BATCH_MAX = 100
SEARCH_LIMIT = 200
WEBHOOK_MAX_AGE_MS = 5 * 60 * 1000
NOTE_TO_CONTACT = 202
TASK_TO_CONTACT = 204
_MARKER = re.compile(r"\[upswing:([0-9a-fA-F-]{36})\]")
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
#: Characters HubSpot's request-validation docs ask to decode in the URI before signing (the list is unverified,
#: reference §5a), so the URI is checked as given and then decoded.
_DECODED = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")
_T = TypeVar("_T")


def signal_marker(signal_id: uuid.UUID) -> str:
    return f"[upswing:{signal_id}]"


def _contact_property_definitions(lead_property: str) -> list[dict[str, Any]]:
    def text(name: str, label: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "label": label, "type": "string", "fieldType": "text", "groupName": "contactinformation",
                **extra}

    def when(name: str, label: str) -> dict[str, Any]:
        return {"name": name, "label": label, "type": "datetime", "fieldType": "date",
                "groupName": "contactinformation"}

    priorities = [{"label": p.capitalize(), "value": p, "displayOrder": i, "hidden": False}
                  for i, p in enumerate(("urgent", "high", "medium", "low"))]
    return [
        text(lead_property, "Upswing lead id", hasUniqueValue=True),
        text(ACCOUNT_PROPERTY, "Upswing account id"),
        {"name": "upswing_score", "label": "Upswing score", "type": "number", "fieldType": "number",
         "groupName": "contactinformation"},
        {"name": "upswing_priority", "label": "Upswing priority", "type": "enumeration", "fieldType": "select",
         "groupName": "contactinformation", "options": priorities},
        text("upswing_last_signal_type", "Upswing last signal type"),
        when("upswing_last_signal_at", "Upswing last signal at"),
        when("upswing_contactable_from", "Upswing contactable from"),
    ]


_DATETIME_PROPERTIES = frozenset({"upswing_last_signal_at", "upswing_contactable_from"})


@dataclass
class _Contact:
    id: str
    properties: dict[str, str | None]


@register
class HubSpotConnector(CrmConnector):
    system: ClassVar[str] = "hubspot"

    def __init__(self, config: Mapping[str, Any], http: httpx.Client) -> None:
        super().__init__(config, http)
        self.base_url = str(config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.lead_property = str(config.get("external_id_property") or "upswing_lead_id")
        self.mapped_fields = tuple(config.get("mapped_fields") or DEFAULT_MAPPED_FIELDS)
        self.max_retries = int(config.get("max_retries_429", 4))
        self.max_backoff_s = float(config.get("max_backoff_s", 10.0))
        self.search_per_s = int(config.get("search_per_s", 4))
        self.app_id = str(config["app_id"]) if config.get("app_id") is not None else None
        self.token_url = str(config.get("token_url") or f"{self.base_url}/oauth/v1/token")
        self.client_id = config.get("client_id")
        self.client_secret = config.get("client_secret")
        self.refresh_token = config.get("refresh_token")
        self.oauth = bool(self.client_id and self.client_secret and self.refresh_token)
        self._token: str | None = config.get("access_token")
        self._token_expires = math.inf if self._token else 0.0
        self._searches: deque[float] = deque()
        #: Replaceable in tests: how the connector waits (backoff, search pacing) and what time it is.
        self.sleep: Callable[[float], None] = time.sleep
        self.clock: Callable[[], float] = time.time
        self.properties_to_read = sorted({"email", "firstname", "lastname", "phone", "hubspot_owner_id",
                                          self.lead_property, ACCOUNT_PROPERTY, *self.mapped_fields,
                                          *(d["name"] for d in _contact_property_definitions(self.lead_property))})

    # ---- the interface

    def connect(self) -> dict[str, Any]:
        info = self._call("GET", "/account-info/v3/details", accept=(403, 404))
        owners = self._call("GET", "/crm/v3/owners", params={"limit": 100})
        created: list[str] = []
        existing: list[str] = []
        for definition in _contact_property_definitions(self.lead_property):
            answer = self._send("POST", "/crm/v3/properties/contacts", json=definition, accept=(409,))
            (existing if answer.status_code == 409 else created).append(definition["name"])
        return {"portal_id": info.get("portalId") if isinstance(info, dict) else None,
                "owners": len((owners or {}).get("results") or []),
                "properties_created": created, "properties_existing": existing,
                "signal_id_in": "note/task body marker [upswing:<signal id>]"}

    def upsert_lead(self, lead: LeadRecord) -> str:
        wanted = self._contact_properties(lead)
        found = self._find_contacts([lead]).get(lead.lead_id)
        if found is None:
            answer = self._send("POST", "/crm/v3/objects/contacts", json={"properties": wanted}, accept=(409,))
            if answer.status_code != 409:
                return str(answer.json()["id"])
            # the search index lags writes: the contact exists after all (HubSpot names it in the 409)
            existing = _EXISTING_ID.search(_message(answer))
            if existing is None:
                raise CrmError(f"HubSpot refused the contact for lead {lead.lead_id}: {_message(answer)}")
            found = _Contact(existing.group(1), {})
        changes = _changes(found.properties, wanted)
        if changes:
            self._call("PATCH", f"/crm/v3/objects/contacts/{found.id}", json={"properties": changes})
        return found.id

    def push_signal(self, remote_lead_id: str, signal: SignalRecord) -> SignalPush:
        note_id, task_id = self._existing_signals([remote_lead_id]).get(signal.signal_id, (None, None))
        if note_id is None:
            note_id = str(self._call("POST", "/crm/v3/objects/notes", json=self._note(remote_lead_id, signal))["id"])
        if signal.make_task and task_id is None:
            task_id = str(self._call("POST", "/crm/v3/objects/tasks", json=self._task(remote_lead_id, signal))["id"])
        return SignalPush(remote_lead_id, note_id, task_id)

    def push_signals(self, items: Sequence[tuple[LeadRecord, SignalRecord]]) -> list[SignalPush | CrmError]:
        """Contacts: one search per 100 leads, then batch update/create; what exists: one association read and one
        batch read per 100 known contacts and kind; notes and tasks: batch create per 100."""
        leads = {lead.lead_id: lead for lead, _ in items}
        contacts, created = self._upsert_contacts(list(leads.values()))
        known = sorted({c for lead_id, c in contacts.items() if isinstance(c, str) and lead_id not in created})
        existing = self._existing_signals(known) if known else {}
        signals: dict[uuid.UUID, tuple[str, SignalRecord]] = {}
        for lead, signal in items:
            contact = contacts.get(lead.lead_id)
            if isinstance(contact, str):
                signals.setdefault(signal.signal_id, (contact, signal))
        notes = self._create_engagements(
            "notes", [(s.signal_id, self._note(c, s)) for c, s in signals.values()
                      if existing.get(s.signal_id, (None, None))[0] is None])
        tasks = self._create_engagements(
            "tasks", [(s.signal_id, self._task(c, s)) for c, s in signals.values()
                      if s.make_task and existing.get(s.signal_id, (None, None))[1] is None])
        results: list[SignalPush | CrmError] = []
        for lead, signal in items:
            contact = contacts.get(lead.lead_id)
            if not isinstance(contact, str):
                results.append(contact if isinstance(contact, CrmError) else CrmError("contact not resolved"))
                continue
            had_note, had_task = existing.get(signal.signal_id, (None, None))
            note = had_note or notes.get(signal.signal_id)
            task = had_task or (tasks.get(signal.signal_id) if signal.make_task else None)
            failure = next((r for r in (note, task) if isinstance(r, CrmError)), None)
            if failure is not None:
                results.append(failure)
            elif note is None or (signal.make_task and task is None):
                results.append(CrmError(f"HubSpot made no note/task for signal {signal.signal_id}"))
            else:
                results.append(SignalPush(contact, str(note), str(task) if task is not None else None))
        return results

    def pull_changes(self, cursor: str | None) -> tuple[list[RemoteChange], str | None]:
        """The fallback when webhooks cannot reach us (``config.poll``): contacts and completed tasks modified since
        the cursor (an ISO time), found with the search endpoint (two searches a poll, paced like every search).
        Each change is keyed by the record and its modification time, so a record seen twice (the filter is
        "at or after") is applied once. No cursor yet: from now on."""
        if cursor is None:
            return [], _iso_ms(self.clock())
        changes: list[RemoteChange] = []
        latest = cursor
        contacts = self._search_all("contacts", [[_filter("lastmodifieddate", "GTE", cursor),
                                                  _filter(self.lead_property, "HAS_PROPERTY")]],
                                    [self.lead_property, "lastmodifieddate", *self.mapped_fields])
        for contact in contacts:
            properties = dict(contact.get("properties") or {})
            modified = str(properties.get("lastmodifieddate") or contact.get("updatedAt") or cursor)
            latest = max(latest, modified)
            for name in self.mapped_fields:
                changes.append(RemoteChange(
                    event_id=f"poll:{contact['id']}@{modified}#{name}", kind=ChangeKind.FIELD_CHANGED,
                    remote_lead_id=str(contact["id"]), lead_id=_uuid(properties.get(self.lead_property)),
                    field=name, value=properties.get(name) or None, changed_at=_parse_iso(modified)))
        tasks = self._search_all("tasks", [[_filter("hs_lastmodifieddate", "GTE", cursor),
                                            _filter("hs_task_status", "EQ", "COMPLETED")]],
                                 ["hs_task_body", "hs_lastmodifieddate"])
        for task in tasks:
            properties = dict(task.get("properties") or {})
            modified = str(properties.get("hs_lastmodifieddate") or cursor)
            latest = max(latest, modified)
            signal_id = _uuid(_marker(properties.get("hs_task_body")))
            if signal_id is not None:
                changes.append(RemoteChange(
                    event_id=f"poll:task:{task['id']}@{modified}", kind=ChangeKind.TASK_COMPLETED,
                    remote_lead_id=None, lead_id=None, signal_id=signal_id, field="hs_task_status",
                    value="COMPLETED", changed_at=_parse_iso(modified)))
        return changes, latest

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> list[RemoteChange]:
        self._verify(headers, body, url)
        try:
            events = orjson.loads(body)
        except ValueError as exc:
            raise WebhookRejected("HubSpot webhook body is not JSON") from exc
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise WebhookRejected("HubSpot webhook body is not an array of events")
        changes: list[RemoteChange] = []
        seen: set[str] = set()
        for event in events:
            event_id = str(event.get("eventId", ""))
            if not event_id or event_id in seen:
                continue
            seen.add(event_id)
            change = self._change(event)
            if change is not None:
                changes.append(change)
        return changes

    def read_lead(self, external_id: str) -> dict[str, Any] | None:
        """The contact whose ``external_id_property`` (our lead id) is ``external_id``, else whose account id is."""
        answer = self._search("contacts", [[_filter(self.lead_property, "EQ", external_id)],
                                           [_filter(ACCOUNT_PROPERTY, "EQ", external_id)]],
                              self.properties_to_read, limit=10)
        results = answer.get("results") or []
        best = next((r for r in results if (r.get("properties") or {}).get(self.lead_property) == external_id),
                    results[0] if results else None)
        if best is None:
            return None
        properties = dict(best.get("properties") or {})
        return {"id": str(best["id"]), "lead_id": _uuid(properties.get(self.lead_property)),
                "external_id": properties.get(ACCOUNT_PROPERTY), "owner_remote_id": properties.get("hubspot_owner_id"),
                "updated_at": best.get("updatedAt"), "properties": properties}

    def read_records(self, remote_lead_ids: Sequence[str]) -> dict[str, RemoteRecord]:
        """One batch read per 100 contacts (a contact deleted in HubSpot comes back as an error: left out)."""
        found: dict[str, RemoteRecord] = {}
        for chunk in _chunks(list(remote_lead_ids), BATCH_MAX):
            answer = self._call("POST", "/crm/v3/objects/contacts/batch/read",
                                json={"inputs": [{"id": i} for i in chunk], "properties": self.properties_to_read})
            for result in (answer or {}).get("results") or []:
                properties = dict(result.get("properties") or {})
                found[str(result["id"])] = RemoteRecord(
                    remote_id=str(result["id"]), owner_remote_id=properties.get("hubspot_owner_id") or None,
                    status=properties.get("hs_lead_status") or None,
                    properties={name: value for name, value in properties.items() if name.startswith("upswing_")})
        return found

    def signal_ids_on(self, remote_lead_ids: Sequence[str]) -> set[uuid.UUID]:
        return set(self._existing_signals(remote_lead_ids))

    # ---- contacts

    def _contact_properties(self, lead: LeadRecord) -> dict[str, str]:
        wanted: dict[str, str] = {"firstname": lead.first_name, "lastname": lead.last_name}
        if lead.email:
            wanted["email"] = lead.email
        if lead.phone:
            wanted["phone"] = lead.phone
        for name, value in lead.properties.items():
            wanted[name] = "" if value is None else (_iso(value) if name in _DATETIME_PROPERTIES else str(value))
        wanted[self.lead_property] = str(lead.lead_id)
        wanted[ACCOUNT_PROPERTY] = lead.external_id
        if lead.owner_remote_id:
            wanted["hubspot_owner_id"] = lead.owner_remote_id
        return wanted

    def _find_contacts(self, leads: Sequence[LeadRecord]) -> dict[uuid.UUID, _Contact]:
        """Our contacts by lead id, else by e-mail: one search (two OR'd filter groups) per 100 leads."""
        found: dict[uuid.UUID, _Contact] = {}
        for chunk in _chunks(leads, BATCH_MAX):
            groups = [[_filter(self.lead_property, "IN", values=[str(lead.lead_id) for lead in chunk])]]
            emails = sorted({lead.email.lower() for lead in chunk if lead.email})
            if emails:
                groups.append([_filter("email", "IN", values=emails)])
            by_lead: dict[str, _Contact] = {}
            by_email: dict[str, _Contact] = {}
            for result in self._search_all("contacts", groups, self.properties_to_read):
                contact = _Contact(str(result["id"]), dict(result.get("properties") or {}))
                if contact.properties.get(self.lead_property):
                    by_lead.setdefault(str(contact.properties[self.lead_property]), contact)
                if contact.properties.get("email"):
                    by_email.setdefault(str(contact.properties["email"]).lower(), contact)
            for lead in chunk:
                match = by_lead.get(str(lead.lead_id)) or (by_email.get(lead.email.lower()) if lead.email else None)
                if match is not None:
                    found[lead.lead_id] = match
        return found

    def _upsert_contacts(self, leads: Sequence[LeadRecord]
                         ) -> tuple[dict[uuid.UUID, str | CrmError], set[uuid.UUID]]:
        """Each lead's contact id (or why it failed), and the leads whose contact was created now."""
        found = self._find_contacts(leads)
        out: dict[uuid.UUID, str | CrmError] = {}
        created: set[uuid.UUID] = set()
        updates = []
        for lead in leads:
            contact = found.get(lead.lead_id)
            if contact is not None:
                out[lead.lead_id] = contact.id
                changes = _changes(contact.properties, self._contact_properties(lead))
                if changes:
                    updates.append((lead, {"id": contact.id, "properties": changes}))
        for chunk in _chunks(updates, BATCH_MAX):
            try:
                self._call("POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": [u for _, u in chunk]})
            except RateLimited:
                raise
            except CrmError:  # one bad input fails the batch: redo one by one to find it
                for lead, _ in chunk:
                    out[lead.lead_id] = self._one(partial(self.upsert_lead, lead))
        missing = [lead for lead in leads if lead.lead_id not in found]
        for chunk_of_leads in _chunks(missing, BATCH_MAX):
            inputs = [{"properties": self._contact_properties(lead)} for lead in chunk_of_leads]
            try:
                answer = self._call("POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
            except RateLimited:
                raise
            except CrmError:
                for lead in chunk_of_leads:
                    out[lead.lead_id] = self._one(partial(self.upsert_lead, lead))
                continue
            by_lead = {str((r.get("properties") or {}).get(self.lead_property)): str(r["id"])
                       for r in answer.get("results") or []}
            for lead in chunk_of_leads:
                contact_id = by_lead.get(str(lead.lead_id))
                out[lead.lead_id] = contact_id or CrmError(f"HubSpot did not return the contact of {lead.lead_id}")
                if contact_id:
                    created.add(lead.lead_id)
        return out, created

    # ---- notes and tasks

    def _note(self, contact_id: str, signal: SignalRecord) -> dict[str, Any]:
        detail = "<br>".join(html.escape(line) for line in signal.detail.splitlines())
        body = (f"<p><strong>{html.escape(signal.summary)}</strong></p><p>{detail}</p>"
                f"<p>{signal_marker(signal.signal_id)}</p>")
        properties = {"hs_timestamp": _iso(signal.detected_at), "hs_note_body": body}
        if signal.owner_remote_id:
            properties["hubspot_owner_id"] = signal.owner_remote_id
        return {"properties": properties, "associations": [_association(contact_id, NOTE_TO_CONTACT)]}

    def _task(self, contact_id: str, signal: SignalRecord) -> dict[str, Any]:
        body = f"{html.escape(signal.detail)}\n\n{signal_marker(signal.signal_id)}"
        priority = {"urgent": "HIGH", "high": "HIGH", "medium": "MEDIUM"}.get(signal.priority, "LOW")
        properties = {"hs_timestamp": _iso(signal.due_at or signal.detected_at),
                      "hs_task_subject": signal.summary[:255], "hs_task_body": body,
                      "hs_task_status": "NOT_STARTED", "hs_task_priority": priority, "hs_task_type": "CALL"}
        if signal.owner_remote_id:
            properties["hubspot_owner_id"] = signal.owner_remote_id
        return {"properties": properties, "associations": [_association(contact_id, TASK_TO_CONTACT)]}

    def _create_engagements(self, kind: str, inputs: list[tuple[uuid.UUID, dict[str, Any]]]
                            ) -> dict[uuid.UUID, str | CrmError]:
        """Batch-create notes or tasks; each signal's new id (matched by the marker in the body) or its error."""
        body_property = "hs_note_body" if kind == "notes" else "hs_task_body"
        made: dict[uuid.UUID, str | CrmError] = {}
        for chunk in _chunks(inputs, BATCH_MAX):
            try:
                answer = self._call("POST", f"/crm/v3/objects/{kind}/batch/create",
                                    json={"inputs": [payload for _, payload in chunk]})
            except RateLimited:
                raise
            except CrmError:  # one bad input fails the batch: redo one by one so only that one fails
                for signal_id, payload in chunk:
                    made[signal_id] = self._one(partial(self._create_engagement, kind, payload))
                continue
            for result in answer.get("results") or []:
                marked = _uuid(_marker((result.get("properties") or {}).get(body_property)))
                if marked is not None:
                    made[marked] = str(result["id"])
        return made

    def _create_engagement(self, kind: str, payload: Mapping[str, Any]) -> str:
        return str(self._call("POST", f"/crm/v3/objects/{kind}", json=payload)["id"])

    def _existing_signals(self, contact_ids: Sequence[str]) -> dict[uuid.UUID, tuple[str | None, str | None]]:
        """The signals whose note or task is on these contacts: signal id → (note id, task id)."""
        found: dict[uuid.UUID, tuple[str | None, str | None]] = {}
        for position, kind in enumerate(("notes", "tasks")):
            body_property = "hs_note_body" if kind == "notes" else "hs_task_body"
            ids: list[str] = []
            for chunk in _chunks(list(contact_ids), BATCH_MAX):
                answer = self._call("POST", f"/crm/v4/associations/contacts/{kind}/batch/read",
                                    json={"inputs": [{"id": c} for c in chunk]})
                for result in answer.get("results") or []:
                    ids.extend(str(to["toObjectId"]) for to in result.get("to") or [])
            for chunk in _chunks(sorted(set(ids)), BATCH_MAX):
                answer = self._call("POST", f"/crm/v3/objects/{kind}/batch/read",
                                    json={"inputs": [{"id": i} for i in chunk], "properties": [body_property]})
                for result in answer.get("results") or []:
                    signal_id = _uuid(_marker((result.get("properties") or {}).get(body_property)))
                    if signal_id is None:
                        continue
                    pair = list(found.get(signal_id, (None, None)))
                    pair[position] = pair[position] or str(result["id"])
                    found[signal_id] = (pair[0], pair[1])
        return found

    # ---- webhooks

    def _verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        lower = {name.lower(): value for name, value in headers.items()}
        signature = lower.get("x-hubspot-signature-v3")
        stamp = lower.get("x-hubspot-request-timestamp")
        if not self.client_secret:
            raise WebhookRejected("no client_secret configured to check HubSpot webhook signatures")
        if not signature or not stamp:
            raise WebhookRejected("HubSpot webhook without X-HubSpot-Signature-v3 / X-HubSpot-Request-Timestamp")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise WebhookRejected("HubSpot webhook timestamp is not a number") from None
        if abs(self.clock() * 1000 - timestamp) > WEBHOOK_MAX_AGE_MS:
            raise WebhookRejected("HubSpot webhook timestamp is more than 5 minutes old (or ahead)")
        decoded = url
        for escaped in _DECODED:
            decoded = re.sub(re.escape(escaped), unquote(escaped), decoded, flags=re.IGNORECASE)
        matches = [hmac.compare_digest(_sign(str(self.client_secret), "POST", uri, body, stamp).encode(),
                                       signature.encode())
                   for uri in dict.fromkeys((url, decoded))]
        if not any(matches):
            raise WebhookRejected("HubSpot webhook signature does not match")

    def _change(self, event: Mapping[str, Any]) -> RemoteChange | None:
        kind = str(event.get("subscriptionType") or "")
        name = event.get("propertyName")
        value = event.get("propertyValue")
        object_id = str(event.get("objectId", ""))
        common: dict[str, Any] = {"event_id": str(event["eventId"]), "field": name, "value": value,
                                  "changed_at": _from_ms(event.get("occurredAt")), "by_us": self._by_us(event)}
        if kind == "contact.propertyChange" and (name in self.mapped_fields or name == self.lead_property):
            lead_id = _uuid(value) if name == self.lead_property else None
            return RemoteChange(kind=ChangeKind.FIELD_CHANGED, remote_lead_id=object_id, lead_id=lead_id, **common)
        if kind == "task.propertyChange" and name == "hs_task_status" and value == "COMPLETED":
            task = self._call("GET", f"/crm/v3/objects/tasks/{object_id}",
                              params={"properties": "hs_task_body", "associations": "contacts"}, accept=(404,))
            signal_id = _uuid(_marker(((task or {}).get("properties") or {}).get("hs_task_body")))
            if signal_id is None:
                return None  # a task someone else made, or one deleted since
            contacts = (((task or {}).get("associations") or {}).get("contacts") or {}).get("results") or []
            return RemoteChange(kind=ChangeKind.TASK_COMPLETED, remote_lead_id=str(contacts[0]["id"]) if contacts
                                else None, lead_id=None, signal_id=signal_id, **common)
        return None

    def _by_us(self, event: Mapping[str, Any]) -> bool:
        """The change came from our app: HubSpot names the app as the ``sourceId`` of an integration's change."""
        if str(event.get("changeSource") or "").upper() not in ("INTEGRATION", "API"):
            return False
        source = str(event.get("sourceId") or "").removeprefix("appId:")
        ours = {self.app_id} if self.app_id else {str(event.get("appId") or "")}
        return bool(source) and source in ours

    # ---- HTTP: auth, rate limits, errors

    def _call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
              accept: Iterable[int] = ()) -> Any:
        """The answer's JSON (None for an accepted error status or an empty body)."""
        answer = self._send(method, path, json=json, params=params, accept=accept)
        if answer.status_code >= 300 or not answer.content:
            return None
        return answer.json()

    def _send(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
              accept: Iterable[int] = (), search: bool = False) -> httpx.Response:
        refreshed = False
        retries = 0
        while True:
            if search:
                self._pace_search()
            headers = {"Authorization": f"Bearer {self._bearer()}"}
            try:
                answer = self.http.request(method, f"{self.base_url}{path}", json=json, params=params,
                                           headers=headers)
            except httpx.HTTPError as exc:
                raise CrmError(f"HubSpot {method} {path}: {exc!r}") from exc
            self.usage.calls += 1
            self._note_limits(answer)
            if answer.status_code == 429:
                wait, final, policy = self._backoff(answer)
                if final or retries >= self.max_retries:
                    raise RateLimited(f"HubSpot rate limit ({policy}) on {method} {path}", wait)
                retries += 1
                self.usage.retries_after_429 += 1
                self.sleep(min(wait, self.max_backoff_s))
                continue
            if answer.status_code == 401 and self.oauth and not refreshed:
                refreshed = True
                self._refresh()
                continue
            if answer.status_code < 300 or answer.status_code in tuple(accept):
                return answer
            raise CrmError(f"HubSpot {method} {path} → {answer.status_code}: {_message(answer)}")

    def _search(self, kind: str, groups: list[list[dict[str, Any]]], properties: Sequence[str], *,
                limit: int = SEARCH_LIMIT, after: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"filterGroups": [{"filters": g} for g in groups], "properties": list(properties),
                                "limit": limit}
        if after is not None:
            body["after"] = after
        answer = self._send("POST", f"/crm/v3/objects/{kind}/search", json=body, search=True).json()
        return answer if isinstance(answer, dict) else {}

    def _search_all(self, kind: str, groups: list[list[dict[str, Any]]],
                    properties: Sequence[str]) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            answer = self._search(kind, groups, properties, after=after)
            yield from answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _pace_search(self) -> None:
        """HubSpot's search has its own low limit: keep under ``search_per_s`` searches in any second."""
        now = time.monotonic()
        while self._searches and self._searches[0] <= now - 1:
            self._searches.popleft()
        if len(self._searches) >= self.search_per_s:
            self.sleep(max(0.0, self._searches[0] + 1 - now))
            self._searches.popleft()
        self._searches.append(time.monotonic())

    def _bearer(self) -> str:
        if self.oauth and (self._token is None or self.clock() >= self._token_expires):
            self._refresh()
        if not self._token:
            raise CrmError("HubSpot connection has no access_token and no OAuth refresh_token")
        return self._token

    def _refresh(self) -> None:
        form = {"grant_type": "refresh_token", "client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token}
        try:
            answer = self.http.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            raise CrmError(f"HubSpot token refresh: {exc!r}") from exc
        self.usage.calls += 1
        if answer.status_code != 200:
            raise CrmError(f"HubSpot token refresh → {answer.status_code}: {_message(answer)}")
        token = answer.json()
        self._token = str(token["access_token"])
        self.refresh_token = token.get("refresh_token") or self.refresh_token
        self._token_expires = self.clock() + max(0, int(token.get("expires_in") or 1800) - 60)

    def _note_limits(self, answer: httpx.Response) -> None:
        daily = _int(answer.headers.get("X-HubSpot-RateLimit-Daily"))
        remaining = _int(answer.headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        if daily is not None:
            self.usage.daily_limit = daily
        if remaining is not None:
            self.usage.daily_remaining = remaining

    def _backoff(self, answer: httpx.Response) -> tuple[float, bool, str]:
        """(seconds to wait, whether retrying now is pointless, the policy)."""
        try:
            policy = str(answer.json().get("policyName") or "unknown")
        except (ValueError, AttributeError):
            policy = "unknown"
        if policy == "DAILY" or answer.headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
            now = datetime.fromtimestamp(self.clock(), UTC)
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            return (midnight - now).total_seconds(), True, "DAILY"
        retry_after = _float(answer.headers.get("Retry-After"))
        if retry_after is not None:
            return max(0.0, retry_after), False, policy
        if policy == "SECONDLY" or answer.headers.get("X-HubSpot-RateLimit-Secondly-Remaining") == "0":
            return 1.0, False, policy
        interval_ms = _float(answer.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        return (interval_ms / 1000 if interval_ms else 10.0), False, policy

    def _one(self, action: Callable[[], _T]) -> _T | CrmError:
        try:
            return action()
        except RateLimited:
            raise
        except CrmError as exc:
            return exc


# ---- helpers


def _sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _filter(name: str, operator: str, value: str | None = None, *, values: list[str] | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"propertyName": name, "operator": operator}
    if value is not None:
        condition["value"] = value
    if values is not None:
        condition["values"] = values
    return condition


def _association(contact_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                 "associationTypeId": type_id}]}


def _changes(current: Mapping[str, str | None], wanted: Mapping[str, str]) -> dict[str, str]:
    """What differs (a property HubSpot does not have and an empty one are the same)."""
    return {name: value for name, value in wanted.items() if (current.get(name) or "") != value}


def _iso_ms(epoch_seconds: float) -> str:
    """HubSpot's datetime form (ISO 8601, milliseconds, ``Z``): what its search filters compare."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _iso(value: datetime | str) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``: what HubSpot answers for datetime properties."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _from_ms(value: Any) -> datetime | None:
    number = _float(value)
    return datetime.fromtimestamp(number / 1000, UTC) if number is not None else None


def _marker(text: Any) -> str | None:
    found = _MARKER.search(str(text or ""))
    return found.group(1) if found else None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _message(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("status") or body)[:500]
    return str(body)[:300]
