"""Salesforce (REST API, ``shared/reference/external-apis.md`` §5b): leads upserted by our external id, one Task
per signal upserted by the signal id, changes polled with SOQL.

Config (``CrmConnection.config``):

* ``login_url``: where tokens come from (``https://acme.my.salesforce.com``; client credentials need the My
  Domain host, JWT bearer also works on ``https://login.salesforce.com``); defaults to ``instance_url``.
  ``instance_url`` is taken from the token answer (the config value is a fallback). ``api_version`` ("59.0").
* ``auth``: ``client_credentials`` (``client_id``, ``client_secret``) or ``jwt_bearer`` (``client_id`` = consumer
  key, ``username``, ``private_key`` PEM, ``audience`` = ``https://login.salesforce.com`` by default,
  ``https://test.salesforce.com`` for a sandbox login URL). A 401 on a data call gets one new token and a retry.
* ``lead_object`` ("Lead"; "Contact" works too), ``external_id_field`` ("Upswing_Lead_Id__c", holds our lead id),
  ``task_external_id_field`` ("Upswing_Signal_Id__c", holds the signal id on the Task), ``account_id_field``
  ("Upswing_Account_Id__c", the lending system's account id; None to skip), ``field_map`` (our property →
  Salesforce field, see ``DEFAULT_FIELD_MAP``), ``company_placeholder`` (what a new Lead gets as its required
  ``Company``; note it is written on every upsert), ``pulled_fields`` (["OwnerId", "Status"]),
  ``integration_user_id`` (the user our writes come from; read from the token's ``id`` URL when not set).

Pulling: two SOQL queries (completed Tasks carrying our signal id; Leads carrying our lead id) by
``LastModifiedDate > cursor``, every page followed. The cursor keeps one timestamp per object
(``Task=…;Lead=…``), so a change on one object between the two queries is not skipped; a plain timestamp is read
as both. Changes whose ``LastModifiedById`` is the integration user come back with ``by_us=True``.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import jwt

from upswing.crm.connector import (
    RECONCILE_BATCH,
    ChangeKind,
    CrmConnector,
    CrmError,
    LeadRecord,
    RateLimited,
    RemoteChange,
    RemoteRecord,
    SignalPush,
    SignalRecord,
    register,
)

__all__ = ["DEFAULT_FIELD_MAP", "ITEMS_PER_COMPOSITE", "SalesforceConnector", "SalesforceError"]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Our lead properties → Salesforce custom fields (``LeadRecord.properties``).
DEFAULT_FIELD_MAP = {
    "upswing_score": "Upswing_Score__c",
    "upswing_priority": "Upswing_Priority__c",
    "upswing_last_signal_type": "Upswing_Last_Signal_Type__c",
    "upswing_last_signal_at": "Upswing_Last_Signal_At__c",
    "upswing_contactable_from": "Upswing_Contactable_From__c",
}
#: Two subrequests per signal (lead upsert + task upsert) in a composite call of at most 25.
ITEMS_PER_COMPOSITE = 12
_LOGIN_HOSTS = {"login.salesforce.com", "test.salesforce.com"}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_CURSOR_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_MAX_PAGES = 1000


class SalesforceError(CrmError):
    """An error answer from Salesforce: its first ``errorCode`` (or OAuth ``error``), fields and HTTP status."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = list(fields)


def error_from(status: int, body: Any, what: str) -> SalesforceError:
    """A ``SalesforceError`` from an error array (``[{message, errorCode, fields}]``) or an OAuth error."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        code = str(first.get("errorCode") or "UNKNOWN")
        message = "; ".join(str(item.get("message", "")) for item in body if isinstance(item, dict))
        return SalesforceError(f"{what}: {code}: {message}", status=status, code=code,
                               fields=[str(f) for f in first.get("fields") or []])
    if isinstance(body, dict) and "error" in body:
        code = str(body["error"])
        return SalesforceError(f"{what}: {code}: {body.get('error_description', '')}", status=status, code=code)
    return SalesforceError(f"{what}: HTTP {status}", status=status)


def _seconds_to_next_utc_day(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (tomorrow - now).total_seconds())


def _soql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _soql_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_sf_datetime(text: str) -> datetime:
    cleaned = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", cleaned):
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]
    parsed = datetime.fromisoformat(cleaned)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


@register
class SalesforceConnector(CrmConnector):
    system = "salesforce"

    def __init__(self, config: Mapping[str, Any], http: httpx.Client) -> None:
        super().__init__(config, http)
        self.api_version = str(config.get("api_version") or "59.0")
        self.auth = str(config.get("auth") or "client_credentials")
        self.lead_object = str(config.get("lead_object") or "Lead")
        self.external_id_field = str(config.get("external_id_field") or "Upswing_Lead_Id__c")
        self.task_external_id_field = str(config.get("task_external_id_field") or "Upswing_Signal_Id__c")
        account = config.get("account_id_field", "Upswing_Account_Id__c")
        self.account_id_field: str | None = str(account) if account else None
        self.field_map = {**DEFAULT_FIELD_MAP, **dict(config.get("field_map") or {})}
        self.company_placeholder = config.get("company_placeholder", "[not provided]")
        default_pulled = ["OwnerId", "Status"] if self.lead_object == "Lead" else ["OwnerId"]
        self.pulled_fields = [str(f) for f in config.get("pulled_fields") or default_pulled]
        self.integration_user_id: str | None = config.get("integration_user_id")
        self.max_retries = int(config.get("max_retries", 2))
        self.org_id: str | None = None
        self.user_id: str | None = None
        self._token: str | None = None
        self._instance_url = str(config.get("instance_url") or "").rstrip("/")
        login = config.get("login_url") or config.get("instance_url") or "https://login.salesforce.com"
        self._login_url = str(login).rstrip("/")
        names = [self.lead_object, self.external_id_field, self.task_external_id_field, *self.field_map.values(),
                 *self.pulled_fields, *([self.account_id_field] if self.account_id_field else [])]
        bad = [name for name in names if not _IDENTIFIER.match(name)]
        if bad:
            raise CrmError(f"not Salesforce object/field names: {', '.join(map(repr, bad))}")

    # ---- interface

    def connect(self) -> dict[str, Any]:
        """A token, the org and user from its ``id`` URL, and a probe of our custom fields (a SOQL query naming
        them answers ``INVALID_FIELD`` when one is missing). Creates nothing: the fields are set up in Setup."""
        self._authenticate()
        checked = [f"{self.lead_object}.{name}" for name in self._lead_fields()]
        checked.append(f"Task.{self.task_external_id_field}")
        self._query_all(f"SELECT {', '.join(self._lead_fields())} FROM {self.lead_object} LIMIT 1")  # noqa: S608 - identifiers checked in __init__, values quoted or validated
        self._query_all(f"SELECT Id, {self.task_external_id_field} FROM Task LIMIT 1")  # noqa: S608 - identifiers checked in __init__, values quoted or validated
        return {"org_id": self.org_id, "user_id": self.user_id, "instance_url": self._instance_url,
                "api_version": self.api_version, "auth": self.auth, "fields_checked": checked,
                "daily_remaining": self.usage.daily_remaining, "daily_limit": self.usage.daily_limit}

    def upsert_lead(self, lead: LeadRecord) -> str:
        value = str(lead.lead_id)
        response = self._request("PATCH", self._external_path(self.lead_object, self.external_id_field, value),
                                 json=self._lead_body(lead))
        return self._upserted_id(response, self.lead_object, self.external_id_field, value)

    def push_signal(self, remote_lead_id: str, signal: SignalRecord) -> SignalPush:
        value = str(signal.signal_id)
        response = self._request("PATCH", self._external_path("Task", self.task_external_id_field, value),
                                 json=self._task_body(remote_lead_id, signal))
        task_id = self._upserted_id(response, "Task", self.task_external_id_field, value)
        return SignalPush(remote_lead_id=remote_lead_id, task_id=task_id)

    def push_signals(self, items: Sequence[tuple[LeadRecord, SignalRecord]]) -> list[SignalPush | CrmError]:
        """Composite calls of ``ITEMS_PER_COMPOSITE`` signals (lead upsert, then its task referring to the lead's
        id with ``@{leadN.id}``). ``allOrNone`` is false: in Salesforce it covers the whole call, so true would
        make one bad record fail its eleven neighbours; a lead whose task failed is harmless (both upserts are
        idempotent, the repeat completes it), and a task whose lead failed is never made (its reference fails)."""
        results: list[SignalPush | CrmError] = []
        for start in range(0, len(items), ITEMS_PER_COMPOSITE):
            results.extend(self._push_chunk(items[start:start + ITEMS_PER_COMPOSITE]))
        return results

    def pull_changes(self, cursor: str | None) -> tuple[list[RemoteChange], str | None]:
        if cursor is None:
            now = _soql_datetime(datetime.now(UTC))
            return [], f"Task={now};Lead={now}"
        task_since, lead_since = self._parse_cursor(cursor)
        changes: list[RemoteChange] = []
        task_rows = self._query_all(
            f"SELECT Id, WhoId, Status, {self.task_external_id_field}, LastModifiedDate, LastModifiedById "  # noqa: S608 - identifiers checked in __init__, values quoted or validated
            f"FROM Task WHERE LastModifiedDate > {task_since} AND Status = 'Completed' "
            f"AND {self.task_external_id_field} != null ORDER BY LastModifiedDate")
        for row in task_rows:
            changes.append(RemoteChange(
                event_id=f"{row['Id']}@{row['LastModifiedDate']}", kind=ChangeKind.TASK_COMPLETED,
                remote_lead_id=row.get("WhoId"), lead_id=None,
                signal_id=_uuid_or_none(row.get(self.task_external_id_field)), field="Status",
                value=row.get("Status"), changed_at=_parse_sf_datetime(row["LastModifiedDate"]),
                by_us=self._by_us(row)))
        fields = ", ".join(dict.fromkeys(["Id", self.external_id_field, *self.pulled_fields, "LastModifiedDate",
                                          "LastModifiedById"]))
        lead_rows = self._query_all(
            f"SELECT {fields} FROM {self.lead_object} WHERE LastModifiedDate > {lead_since} "  # noqa: S608 - identifiers checked in __init__, values quoted or validated
            f"AND {self.external_id_field} != null ORDER BY LastModifiedDate")
        for row in lead_rows:
            for name in self.pulled_fields:
                changes.append(RemoteChange(
                    event_id=f"{row['Id']}@{row['LastModifiedDate']}#{name}", kind=ChangeKind.FIELD_CHANGED,
                    remote_lead_id=row["Id"], lead_id=_uuid_or_none(row.get(self.external_id_field)), field=name,
                    value=row.get(name), changed_at=_parse_sf_datetime(row["LastModifiedDate"]),
                    by_us=self._by_us(row)))
        changes.sort(key=lambda change: change.changed_at or datetime.min.replace(tzinfo=UTC))
        task_next = self._last_stamp(task_rows) or task_since
        lead_next = self._last_stamp(lead_rows) or lead_since
        return changes, f"Task={task_next};Lead={lead_next}"

    def read_lead(self, external_id: str) -> dict[str, Any] | None:
        """The record whose ``external_id_field`` is ``external_id`` (our lead id)."""
        fields = ",".join(dict.fromkeys([*self._lead_fields(), *self.pulled_fields, "LastModifiedDate",
                                         "LastModifiedById"]))
        response = self._request("GET", self._external_path(self.lead_object, self.external_id_field, external_id),
                                 params={"fields": fields})
        if response.status_code == 404:
            return None
        body = _json(response)
        if response.status_code == 300:
            raise SalesforceError(f"several {self.lead_object}s carry {self.external_id_field}={external_id}",
                                  status=300, code="MULTIPLE_CHOICES")
        if response.status_code != 200 or not isinstance(body, dict):
            raise error_from(response.status_code, body, f"reading {self.lead_object} {external_id}")
        return {key: value for key, value in body.items() if key != "attributes"}

    def read_records(self, remote_lead_ids: Sequence[str]) -> dict[str, RemoteRecord]:
        """One SOQL query per 100 records (``Id IN (…)``)."""
        self._check_ids(remote_lead_ids)
        status = ["Status"] if self.lead_object == "Lead" else []
        fields = list(dict.fromkeys(["Id", "OwnerId", *status, *self.field_map.values()]))
        found: dict[str, RemoteRecord] = {}
        for start in range(0, len(remote_lead_ids), RECONCILE_BATCH):
            ids = ", ".join(_soql_string(remote_id) for remote_id in remote_lead_ids[start:start + RECONCILE_BATCH])
            for row in self._query_all(f"SELECT {', '.join(fields)} FROM {self.lead_object} "  # noqa: S608 - identifiers checked in __init__, values quoted or validated
                                       f"WHERE Id IN ({ids})"):
                found[str(row["Id"])] = RemoteRecord(
                    remote_id=str(row["Id"]), owner_remote_id=row.get("OwnerId"), status=row.get("Status"),
                    properties={ours: None if row.get(theirs) is None else str(row.get(theirs))
                                for ours, theirs in self.field_map.items()})
        return found

    def _check_ids(self, remote_ids: Sequence[str]) -> None:
        for remote_id in remote_ids:
            if not _RECORD_ID.match(remote_id):
                raise CrmError(f"not a Salesforce record id: {remote_id!r}")

    def signal_ids_on(self, remote_lead_ids: Sequence[str]) -> set[uuid.UUID]:
        self._check_ids(remote_lead_ids)
        found: set[uuid.UUID] = set()
        for start in range(0, len(remote_lead_ids), RECONCILE_BATCH):
            who = ", ".join(_soql_string(remote_id) for remote_id in remote_lead_ids[start:start + RECONCILE_BATCH])
            rows = self._query_all(f"SELECT Id, {self.task_external_id_field} FROM Task WHERE WhoId IN ({who}) "  # noqa: S608 - identifiers checked in __init__, values quoted or validated
                                   f"AND {self.task_external_id_field} != null")
            found.update(sid for row in rows
                         if (sid := _uuid_or_none(row.get(self.task_external_id_field))) is not None)
        return found

    # ---- bodies

    def _lead_fields(self) -> list[str]:
        names = ["Id", self.external_id_field]
        if self.account_id_field:
            names.append(self.account_id_field)
        names.extend(self.field_map.values())
        return list(dict.fromkeys(names))

    def _lead_body(self, lead: LeadRecord) -> dict[str, Any]:
        body: dict[str, Any] = {"FirstName": lead.first_name or None, "LastName": lead.last_name}
        if lead.email:
            body["Email"] = lead.email
        if lead.phone:
            body["Phone"] = lead.phone
        if self.lead_object == "Lead" and self.company_placeholder:
            body["Company"] = self.company_placeholder
        if self.account_id_field:
            body[self.account_id_field] = lead.external_id
        for key, value in lead.properties.items():
            target = self.field_map.get(key)
            if target:
                body[target] = value
        if lead.owner_remote_id:
            body["OwnerId"] = lead.owner_remote_id
        return body

    def _task_body(self, who_id: str, signal: SignalRecord) -> dict[str, Any]:
        # No Status: a new Task gets the org's default ("Not Started"), and a repeat does not reopen a Task
        # someone has completed since.
        body: dict[str, Any] = {
            "WhoId": who_id, "Subject": signal.summary[:255], "Description": signal.detail[:32000],
            "Priority": "High" if signal.priority in ("urgent", "high") else "Normal"}
        if signal.due_at is not None:
            body["ActivityDate"] = signal.due_at.astimezone(UTC).date().isoformat()
        if signal.owner_remote_id:
            body["OwnerId"] = signal.owner_remote_id
        return body

    # ---- composite

    def _push_chunk(self, chunk: Sequence[tuple[LeadRecord, SignalRecord]]) -> list[SignalPush | CrmError]:
        subrequests: list[dict[str, Any]] = []
        for n, (lead, signal) in enumerate(chunk):
            subrequests.append({
                "method": "PATCH", "referenceId": f"lead{n}",
                "url": self._external_path(self.lead_object, self.external_id_field, str(lead.lead_id)),
                "body": self._lead_body(lead)})
            subrequests.append({
                "method": "PATCH", "referenceId": f"task{n}",
                "url": self._external_path("Task", self.task_external_id_field, str(signal.signal_id)),
                "body": self._task_body(f"@{{lead{n}.id}}", signal)})
        try:
            response = self._request("POST", f"{self._data_path}/composite",
                                     json={"allOrNone": False, "compositeRequest": subrequests})
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise error_from(response.status_code, body, "composite push")
        except RateLimited:
            raise
        except CrmError as exc:
            return [exc for _ in chunk]
        answers = {item.get("referenceId"): item for item in body.get("compositeResponse") or []
                   if isinstance(item, dict)}
        return [self._item_result(answers.get(f"lead{n}"), answers.get(f"task{n}"), lead, signal)
                for n, (lead, signal) in enumerate(chunk)]

    def _item_result(self, lead_answer: Mapping[str, Any] | None, task_answer: Mapping[str, Any] | None,
                     lead: LeadRecord, signal: SignalRecord) -> SignalPush | CrmError:
        if lead_answer is None or task_answer is None:
            return CrmError(f"composite answer lacks signal {signal.signal_id}")
        lead_status = int(lead_answer.get("httpStatusCode") or 0)
        try:
            if lead_status == 204:  # API < 46.0: an update answers without the id, so the reference failed
                return self.push_signal(self.upsert_lead(lead), signal)
            if lead_status not in (200, 201):
                return error_from(lead_status, lead_answer.get("body"), f"upserting lead {lead.lead_id}")
            remote_lead_id = str((lead_answer.get("body") or {}).get("id"))
            task_status = int(task_answer.get("httpStatusCode") or 0)
            task_body = task_answer.get("body")
            if task_status in (200, 201) and isinstance(task_body, dict) and task_body.get("id"):
                return SignalPush(remote_lead_id=remote_lead_id, task_id=str(task_body["id"]))
            if task_status == 204:
                task_id = self._id_by_external("Task", self.task_external_id_field, str(signal.signal_id))
                return SignalPush(remote_lead_id=remote_lead_id, task_id=task_id)
            return error_from(task_status, task_body, f"upserting the task of signal {signal.signal_id}")
        except RateLimited:
            raise
        except CrmError as exc:
            return exc

    # ---- pulling

    def _parse_cursor(self, cursor: str) -> tuple[str, str]:
        parts = dict(part.split("=", 1) for part in cursor.split(";") if "=" in part)
        task_since, lead_since = parts.get("Task", cursor), parts.get("Lead", cursor)
        for stamp in (task_since, lead_since):
            if not _CURSOR_STAMP.match(stamp):
                raise CrmError(f"not a Salesforce cursor: {cursor!r}")
        return task_since, lead_since

    @staticmethod
    def _last_stamp(rows: Sequence[Mapping[str, Any]]) -> str | None:
        stamps = [_parse_sf_datetime(row["LastModifiedDate"]) for row in rows if row.get("LastModifiedDate")]
        return _soql_datetime(max(stamps)) if stamps else None

    def _by_us(self, row: Mapping[str, Any]) -> bool:
        ours = self.integration_user_id or self.user_id
        return ours is not None and row.get("LastModifiedById") in (ours, ours[:15])

    def _query_all(self, soql: str) -> list[dict[str, Any]]:
        response = self._request("GET", f"{self._data_path}/query", params={"q": soql})
        records: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise error_from(response.status_code, body, "SOQL query")
            records.extend(r for r in body.get("records") or [] if isinstance(r, dict))
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return records
            response = self._request("GET", str(next_url))
        raise CrmError(f"SOQL query did not finish after {_MAX_PAGES} pages")

    # ---- ids

    @property
    def _data_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def _external_path(self, sobject: str, field: str, value: str) -> str:
        return f"{self._data_path}/sobjects/{sobject}/{field}/{quote(value, safe='')}"

    def _upserted_id(self, response: httpx.Response, sobject: str, field: str, value: str) -> str:
        body = _json(response)
        if response.status_code in (200, 201) and isinstance(body, dict) and body.get("id"):
            return str(body["id"])
        if response.status_code == 204:  # API < 46.0 answers an update without a body
            return self._id_by_external(sobject, field, value)
        if response.status_code == 300:
            raise SalesforceError(f"several {sobject}s carry {field}={value}", status=300, code="MULTIPLE_CHOICES")
        raise error_from(response.status_code, body, f"upserting {sobject} {field}={value}")

    def _id_by_external(self, sobject: str, field: str, value: str) -> str:
        response = self._request("GET", self._external_path(sobject, field, value), params={"fields": "Id"})
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("Id"):
            raise error_from(response.status_code, body, f"reading {sobject} {field}={value}")
        return str(body["Id"])

    # ---- HTTP

    def _authenticate(self) -> None:
        url = f"{self._login_url}/services/oauth2/token"
        headers = {"Accept": "application/json"}
        if self.auth == "client_credentials":
            if (urlsplit(self._login_url).hostname or "").lower() in _LOGIN_HOSTS:
                raise CrmError("the client credentials flow must use the org's My Domain URL as login_url, "
                               "not login.salesforce.com / test.salesforce.com")
            key = f"{self.config.get('client_id', '')}:{self.config.get('client_secret', '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(key.encode()).decode()
            form = {"grant_type": "client_credentials"}
        elif self.auth == "jwt_bearer":
            form = {"grant_type": JWT_GRANT, "assertion": self._assertion()}
        else:
            raise CrmError(f"unknown Salesforce auth {self.auth!r} (client_credentials or jwt_bearer)")
        try:
            response = self.http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise CrmError(f"Salesforce token endpoint unreachable: {exc}") from exc
        self.usage.calls += 1
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise error_from(response.status_code, body, "Salesforce refused the token request")
        self._token = str(body["access_token"])
        self._instance_url = str(body.get("instance_url") or self._instance_url or self._login_url).rstrip("/")
        identity = [part for part in urlsplit(str(body.get("id") or "")).path.split("/") if part]
        if len(identity) >= 3 and identity[-3] == "id":
            self.org_id, self.user_id = identity[-2], identity[-1]

    def _assertion(self) -> str:
        login_host = (urlsplit(self._login_url).hostname or "").lower()
        audience = self.config.get("audience") or (
            "https://test.salesforce.com" if login_host == "test.salesforce.com" else "https://login.salesforce.com")
        now = int(time.time())
        claims = {"iss": self.config.get("client_id"), "sub": self.config.get("username"), "aud": audience,
                  "exp": now + int(self.config.get("jwt_ttl_s", 150))}
        try:
            return jwt.encode(claims, self.config.get("private_key") or "", algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise CrmError(f"cannot sign the JWT assertion with the configured private_key: {exc}") from exc

    def _request(self, method: str, path: str, *, json: Any = None,
                 params: Mapping[str, str] | None = None) -> httpx.Response:
        """One data call: a token first if we have none, one new token on 401, ``max_retries`` more tries on a
        transport error or 5xx (every write is an upsert, so a repeat is safe); 429 and the spent daily budget
        (403 ``REQUEST_LIMIT_EXCEEDED``) raise ``RateLimited``. Other answers are returned as they are."""
        if self._token is None:
            self._authenticate()
        url = path if path.startswith(("http://", "https://")) else f"{self._instance_url}{path}"
        refreshed, failures = False, 0
        while True:
            try:
                response = self.http.request(method, url, json=json, params=params,
                                             headers={"Authorization": f"Bearer {self._token}",
                                                      "Accept": "application/json"})
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.max_retries:
                    raise CrmError(f"Salesforce unreachable: {exc}") from exc
                continue
            self.usage.calls += 1
            self._read_limit_info(response)
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed = True
                self._authenticate()
                continue
            if status == 429:
                retry_after = response.headers.get("Retry-After")
                try:
                    wait = float(retry_after) if retry_after else 5.0
                except ValueError:
                    wait = 5.0
                raise RateLimited("Salesforce answered 429 Too Many Requests", max(1.0, wait))
            if status == 403:
                error = error_from(status, _json(response), "Salesforce")
                if error.code == "REQUEST_LIMIT_EXCEEDED":
                    raise RateLimited(f"the org's daily API limit is spent ({self.usage.daily_limit} calls)",
                                      _seconds_to_next_utc_day())
            if status >= 500 and failures < self.max_retries:
                failures += 1
                continue
            if status >= 500 or status == 401:
                raise error_from(status, _json(response), f"Salesforce {method} {path}")
            return response

    def _read_limit_info(self, response: httpx.Response) -> None:
        found = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if found:
            used, limit = int(found[1]), int(found[2])
            self.usage.daily_limit = limit
            self.usage.daily_remaining = max(0, limit - used)
