"""A fake Salesforce org: OAuth token endpoint and the REST API (``shared/reference/external-apis.md`` §5b).

* ``POST /services/oauth2/token`` (form-encoded):

  - ``grant_type=client_credentials`` with ``Authorization: Basic base64(key:secret)``: only on the "My Domain"
    host. The fake answers on 127.0.0.1 and on ``localhost`` (same port); ``my_domain_url`` (``localhost``) is the
    My Domain host, ``login_url`` (``127.0.0.1``) plays ``login.salesforce.com``, where the grant is refused
    (``invalid_grant`` "request not supported on this domain").
  - ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…``: the RS256 assertion is verified with
    ``jwt_public_key``; ``iss`` must be the consumer key, ``sub`` a known username, ``aud`` one of ``audiences``,
    ``exp`` in the future and at most 3 minutes ahead.
  - 200 ``{access_token, instance_url, id, token_type, issued_at, signature}``; failures 400
    ``{error, error_description}``.

* Data calls under ``/services/data/vXX.X/`` need ``Authorization: Bearer <token>`` (401 ``INVALID_SESSION_ID``
  otherwise) and count against a daily budget: every answer carries ``Sforce-Limit-Info: api-usage=N/LIMIT``,
  and when the budget is spent the answer is 403 ``REQUEST_LIMIT_EXCEEDED``.
* sObjects ``Lead``, ``Contact``, ``Task``: ``POST /sobjects/X`` (201 ``{id, success, errors}``,
  ``REQUIRED_FIELD_MISSING``), ``GET|PATCH|DELETE /sobjects/X/{Id}``, and by external id
  ``GET|PATCH /sobjects/X/{Field}/{value}`` (upsert: 201 created; on update 200 ``{…, created: false}`` from API
  v46.0 on, 204 before; 300 with the matching records' URLs when several match). Unknown fields are 400
  ``INVALID_FIELD``; a WhoId/OwnerId that does not exist is ``INVALID_CROSS_REFERENCE_KEY``.
* SOQL ``GET /query?q=`` for ``SELECT f, … FROM X [WHERE a op literal [AND …]] [ORDER BY f [ASC|DESC], …]
  [LIMIT n]`` (ops ``= != <> > < >= <=``; literals: 'strings', ``null``, ``true/false``, numbers, ISO datetimes),
  answered in pages of ``page_size`` with ``nextRecordsUrl`` (``GET /query/01g…-{offset}``).
* ``POST /composite``: at most 25 subrequests (5 queries), ``@{ref.path}`` references, ``allOrNone`` rolls back;
  always 200 ``{compositeResponse: [{body, httpHeaders, httpStatusCode, referenceId}]}``; counts as one call.
* Errors are JSON arrays ``[{message, errorCode, fields?}]``.

Test helpers: ``leads``, ``tasks``, ``tasks_for(who_id)``, ``record()``, ``add_record()`` (seed, e.g. two leads
with the same external id), ``complete_task()`` / ``change_owner()`` (a person working in Salesforce: they set
``LastModifiedDate`` and ``LastModifiedById`` = ``human_user_id``), ``advance()`` (the org's clock),
``revoke_tokens()``, ``api_used`` / ``daily_limit``.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import orjson

from upswing.fakes.server import FakeServer, Fault, Reply, Request

__all__ = [
    "COMPOSITE_ROUTE",
    "CREATE_ROUTE",
    "DEFAULT_CUSTOM_FIELDS",
    "EXTERNAL_ROUTE",
    "JWT_GRANT",
    "QUERY_MORE_ROUTE",
    "QUERY_ROUTE",
    "RECORD_ROUTE",
    "TOKEN_ROUTE",
    "FakeSalesforce",
    "sf_error",
]

TOKEN_ROUTE = "oauth-token"  # noqa: S105 (a route name)
CREATE_ROUTE = "sobject-create"
RECORD_ROUTE = "sobject-record"
EXTERNAL_ROUTE = "sobject-external-id"
QUERY_ROUTE = "query"
QUERY_MORE_ROUTE = "query-more"
COMPOSITE_ROUTE = "composite"

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_SUBREQUESTS = 25
MAX_COMPOSITE_QUERIES = 5
JWT_MAX_LIFETIME_S = 180

_DATA = r"^/services/data/v(?P<version>\d+\.\d+)"
_PREFIX = {"Lead": "00Q", "Contact": "003", "Task": "00T", "User": "005", "Organization": "00D"}
_SYSTEM = frozenset({"Id", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
                     "IsDeleted"})
_DATETIMES = frozenset({"CreatedDate", "LastModifiedDate", "SystemModstamp"})
_STANDARD = {
    "Lead": {"FirstName", "LastName", "Company", "Email", "Phone", "Status", "OwnerId", "Description", "Title"},
    "Contact": {"FirstName", "LastName", "Email", "Phone", "OwnerId", "Description", "Title", "AccountId"},
    "Task": {"WhoId", "WhatId", "Subject", "Description", "Status", "Priority", "ActivityDate", "OwnerId"},
}
_UPSWING_LEAD_FIELDS = {"Upswing_Lead_Id__c", "Upswing_Account_Id__c", "Upswing_Score__c", "Upswing_Priority__c",
                        "Upswing_Last_Signal_Type__c", "Upswing_Last_Signal_At__c", "Upswing_Contactable_From__c"}
DEFAULT_CUSTOM_FIELDS: dict[str, set[str]] = {"Lead": set(_UPSWING_LEAD_FIELDS), "Contact": set(_UPSWING_LEAD_FIELDS),
                                              "Task": {"Upswing_Signal_Id__c"}}
DEFAULT_EXTERNAL_IDS: dict[str, set[str]] = {"Lead": {"Upswing_Lead_Id__c"}, "Contact": {"Upswing_Lead_Id__c"},
                                             "Task": {"Upswing_Signal_Id__c"}}
_REQUIRED = {"Lead": ("LastName", "Company"), "Contact": ("LastName",), "Task": ()}
_DEFAULTS: dict[str, dict[str, Any]] = {"Lead": {"Status": "Open - Not Contacted"},
                                        "Task": {"Status": "Not Started", "Priority": "Normal"}}
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")


def sf_error(status: int, code: str, message: str, fields: Iterable[str] | None = None,
             headers: Mapping[str, str] | None = None) -> Reply:
    """An error as the REST API sends it: a JSON array of ``{message, errorCode, fields?}``."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = list(fields)
    return Reply.json([item], status, headers)


def _oauth_error(error: str, description: str, status: int = 400) -> Reply:
    return Reply.json({"error": error, "error_description": description}, status)


def _sf_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _parse_datetime(text: str) -> datetime:
    cleaned = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", cleaned):
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]
    parsed = datetime.fromisoformat(cleaned)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _version_at_least(version: str, wanted: float) -> bool:
    try:
        return float(version) >= wanted
    except ValueError:
        return False


@dataclass(frozen=True)
class _Call:
    """One data call as an operation sees it (from HTTP or from a composite subrequest)."""

    version: str
    params: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: Any
    user_id: str

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


_Op = Callable[[_Call], Reply]


class _Unresolved(Exception):
    pass


class _SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Condition:
    field: str
    op: str
    value: Any  # str | datetime | float | bool | None


@dataclass(frozen=True)
class _Soql:
    fields: list[str]
    sobject: str
    where: list[_Condition]
    order: list[tuple[str, bool]]  # (field, descending)
    limit: int | None


_SOQL = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
                   r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
                   r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.IGNORECASE | re.DOTALL)
_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*(?P<op>!=|<>|>=|<=|=|>|<)\s*(?P<literal>.+?)\s*$", re.DOTALL)
_IN_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s+IN\s*\((?P<values>.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_LIST_ITEM = re.compile(r"\s*('(?:[^'\\]|\\.)*'|[^,\s]+)\s*(?:,|$)")
_DATETIME_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$")


def _split_and(where: str) -> list[str]:
    """Split on AND outside quoted strings."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(where):
        char = where[i]
        if char == "\\" and quoted:
            current.append(where[i:i + 2])
            i += 2
            continue
        if char == "'":
            quoted = not quoted
        if not quoted and re.match(r"\s+AND\s+", where[i:], re.IGNORECASE) and current:
            found = re.match(r"\s+AND\s+", where[i:], re.IGNORECASE)
            assert found is not None
            parts.append("".join(current))
            current = []
            i += found.end()
            continue
        current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    lowered = text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _DATETIME_LITERAL.match(text):
        return _parse_datetime(text)
    try:
        return float(text)
    except ValueError:
        raise _SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'") from None


def parse_soql(text: str) -> _Soql:
    found = _SOQL.match(text)
    if found is None:
        raise _SoqlError("MALFORMED_QUERY", "unexpected token: the query is not SELECT … FROM …")
    fields = [f.strip() for f in found["fields"].split(",")]
    if not all(re.fullmatch(r"\w+", f) for f in fields):
        raise _SoqlError("MALFORMED_QUERY", f"unexpected token in the field list: {found['fields']!r}")
    where = []
    for part in _split_and(found["where"]) if found["where"] else []:
        listed = _IN_CONDITION.match(part)
        if listed is not None:  # field IN ('a', 'b'): SOQL's set membership
            values = [_literal(item.group(1)) for item in _LIST_ITEM.finditer(listed["values"]) if item.group(1)]
            if not values:
                raise _SoqlError("MALFORMED_QUERY", f"unexpected token: '{part.strip()}'")
            where.append(_Condition(listed["field"], "IN", values))
            continue
        condition = _CONDITION.match(part)
        if condition is None:
            raise _SoqlError("MALFORMED_QUERY", f"unexpected token: '{part.strip()}'")
        where.append(_Condition(condition["field"], "!=" if condition["op"] == "<>" else condition["op"],
                                _literal(condition["literal"])))
    order = []
    for item in found["order"].split(",") if found["order"] else []:
        words = item.split()
        if not words or len(words) > 2 or not re.fullmatch(r"\w+", words[0]) or (
                len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise _SoqlError("MALFORMED_QUERY", f"unexpected token in ORDER BY: {item!r}")
        order.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    return _Soql(fields, found["sobject"], where, order, int(found["limit"]) if found["limit"] else None)


def _compare(value: Any, op: str, literal: Any) -> bool:
    if op == "IN":
        return bool(value in literal)
    if op == "=":
        return bool(value == literal)
    if op == "!=":
        return bool(value != literal)
    if value is None or literal is None:
        return False
    try:
        if isinstance(literal, float):
            value = float(value)
        return bool({">": value > literal, "<": value < literal, ">=": value >= literal,
                     "<=": value <= literal}[op])
    except (TypeError, ValueError):
        return False


class FakeSalesforce(FakeServer):
    name = "fake-salesforce"

    def __init__(self, *, consumer_key: str = "3MVG9-consumer-key", consumer_secret: str = "consumer-secret",  # noqa: S107 (a fake)
                 jwt_public_key: str | bytes | None = None, username: str = "upswing@acme.example",
                 audiences: Iterable[str] = ("https://login.salesforce.com", "https://test.salesforce.com"),
                 daily_limit: int = 15_000, page_size: int = 2000,
                 custom_fields: Mapping[str, Iterable[str]] | None = None,
                 external_id_fields: Mapping[str, Iterable[str]] | None = None,
                 my_domain_host: str = "localhost") -> None:
        super().__init__()
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.jwt_public_key = jwt_public_key
        self.audiences = set(audiences)
        self.daily_limit = daily_limit
        self.api_used = 0
        self.page_size = page_size
        self.my_domain_host = my_domain_host
        self._ids = itertools.count(1)
        self.org_id = self._new_id("Organization")
        self.integration_user_id = self._new_id("User")  # the connected app's user (run-as / JWT subject)
        self.human_user_id = self._new_id("User")  # a person on the recovery team
        self.users: dict[str, str] = {username: self.integration_user_id, "dana@acme.example": self.human_user_id}
        custom = custom_fields if custom_fields is not None else DEFAULT_CUSTOM_FIELDS
        self.fields: dict[str, set[str]] = {
            sobject: set(_SYSTEM) | standard | set(custom.get(sobject, ())) for sobject, standard in _STANDARD.items()}
        external = external_id_fields if external_id_fields is not None else DEFAULT_EXTERNAL_IDS
        self.external_id_fields = {sobject: set(external.get(sobject, ())) & self.fields[sobject]
                                   for sobject in _STANDARD}
        self._records: dict[str, dict[str, dict[str, Any]]] = {sobject: {} for sobject in _STANDARD}
        self._tokens: dict[str, str] = {}
        self._cursors: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self._state = threading.RLock()
        self._offset = timedelta()
        self.add_route("POST", r"^/services/oauth2/token$", TOKEN_ROUTE, self._token)
        self._ops: list[tuple[str, re.Pattern[str], str, _Op]] = []
        self._op("POST", r"/composite/?$", COMPOSITE_ROUTE, self._composite)
        self._op("GET", r"/query/?$", QUERY_ROUTE, self._query)
        self._op("GET", r"/query/(?P<locator>01g\w+)-(?P<offset>\d+)$", QUERY_MORE_ROUTE, self._query_more)
        self._op("POST", r"/sobjects/(?P<sobject>\w+)/?$", CREATE_ROUTE, self._create)
        for method, op in (("GET", self._get), ("PATCH", self._patch), ("DELETE", self._delete)):
            self._op(method, r"/sobjects/(?P<sobject>\w+)/(?P<id>\w+)$", RECORD_ROUTE, op)
        for method, op in (("GET", self._get_by_external_id), ("PATCH", self._upsert)):
            self._op(method, r"/sobjects/(?P<sobject>\w+)/(?P<field>\w+)/(?P<value>[^/]+)$", EXTERNAL_ROUTE, op)

    # ---- URLs

    @property
    def login_url(self) -> str:
        """Plays ``https://login.salesforce.com``: JWT bearer works here, client credentials do not."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def my_domain_url(self) -> str:
        """The org's My Domain (``https://acme.my.salesforce.com``): the instance URL, and where client
        credentials are accepted."""
        return f"http://{self.my_domain_host}:{self.port}"

    # ---- test helpers

    def now(self) -> datetime:
        """The org's clock: real UTC time plus ``advance()``, to the second (as Salesforce stores datetimes)."""
        return (datetime.now(UTC) + self._offset).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        with self._state:
            self._offset += timedelta(seconds=seconds)

    def revoke_tokens(self) -> None:
        """Every session ends (as when an admin revokes them, or they time out): the next call gets 401."""
        with self._state:
            self._tokens.clear()

    def record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        with self._state:
            found = self._records[sobject].get(record_id)
            return copy.deepcopy(found) if found is not None else None

    def records(self, sobject: str) -> list[dict[str, Any]]:
        with self._state:
            return copy.deepcopy(list(self._records[sobject].values()))

    @property
    def leads(self) -> list[dict[str, Any]]:
        return self.records("Lead")

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.records("Task")

    def tasks_for(self, who_id: str) -> list[dict[str, Any]]:
        return [task for task in self.tasks if task.get("WhoId") == who_id]

    def add_record(self, sobject: str, fields: Mapping[str, Any], *, by: str | None = None) -> str:
        """Seed a record directly (no validation, no uniqueness: e.g. two leads with the same external id)."""
        with self._state:
            return self._insert(sobject, dict(fields), by or self.human_user_id)

    def complete_task(self, task_id: str, *, by: str | None = None) -> None:
        """Someone marks the task done in Salesforce."""
        self._edit("Task", task_id, {"Status": "Completed"}, by)

    def change_owner(self, lead_id: str, owner_id: str, *, by: str | None = None) -> None:
        """Someone reassigns the lead in Salesforce."""
        self._edit("Lead", lead_id, {"OwnerId": owner_id}, by)

    def edit(self, sobject: str, record_id: str, fields: Mapping[str, Any], *, by: str | None = None) -> None:
        self._edit(sobject, record_id, fields, by)

    @staticmethod
    def rate_limited(retry_after: str | None = "2") -> Fault:
        """A 429 with an error array (Salesforce answers 403 for the daily budget; 429 is for injected tests)."""
        body = [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return Fault.error(429, body, {"Retry-After": retry_after} if retry_after is not None else None)

    def _edit(self, sobject: str, record_id: str, fields: Mapping[str, Any], by: str | None) -> None:
        with self._state:
            record = self._records[sobject][record_id]
            record.update(fields)
            self._touch(record, by or self.human_user_id)

    # ---- storage

    def _new_id(self, sobject: str) -> str:
        number = next(self._ids)
        return f"{_PREFIX[sobject]}5g00000{number:05d}AAA"

    def _touch(self, record: dict[str, Any], user_id: str) -> None:
        now = self.now()
        record.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=user_id)

    def _insert(self, sobject: str, fields: dict[str, Any], user_id: str) -> str:
        record_id = self._new_id(sobject)
        now = self.now()
        record: dict[str, Any] = {name: None for name in self.fields[sobject]}
        record.update(_DEFAULTS.get(sobject, {}))
        record.update(OwnerId=user_id, IsDeleted=False)
        record.update({k: v for k, v in fields.items() if k != "attributes"})
        record.update(Id=record_id, CreatedDate=now, CreatedById=user_id, LastModifiedDate=now, SystemModstamp=now,
                      LastModifiedById=user_id)
        self._records[sobject][record_id] = record
        return record_id

    def _serialize(self, sobject: str, record: Mapping[str, Any], version: str,
                   fields: Iterable[str] | None = None) -> dict[str, Any]:
        names = list(fields) if fields is not None else sorted(record)
        out: dict[str, Any] = {"attributes": {"type": sobject,
                                              "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}"}}
        for name in names:
            value = record.get(name)
            out[name] = _sf_datetime(value) if isinstance(value, datetime) else value
        return out

    # ---- HTTP plumbing

    def _op(self, method: str, pattern: str, name: str, op: _Op) -> None:
        regex = re.compile(_DATA + pattern)
        self._ops.append((method, regex, name, op))
        self.add_route(method, regex.pattern, name, lambda request: self._api(request, op))

    def _limit_headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.daily_limit}"}

    def _api(self, request: Request, op: _Op) -> Reply:
        authorization = request.headers.get("authorization", "")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else ""
        with self._state:
            user_id = self._tokens.get(token)
            if user_id is None:
                return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if self.api_used >= self.daily_limit:
                return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.",
                                headers=self._limit_headers())
            self.api_used += 1
            try:
                body = request.json() if request.body else None
            except ValueError:
                reply = sf_error(400, "JSON_PARSER_ERROR", "Unexpected character in the request body")
            else:
                reply = op(_Call(request.params.get("version", "59.0"), request.params, request.query, body, user_id))
            headers = {**reply.headers, **self._limit_headers()}
        return Reply(reply.status, reply.body, headers, reply.content_type)

    # ---- OAuth

    def _token(self, request: Request) -> Reply:
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        grant = (form.get("grant_type") or [""])[-1]
        if grant == "client_credentials":
            host = (urlsplit(f"//{request.headers.get('host', '')}").hostname or "").lower()
            if host != self.my_domain_host.lower():
                return _oauth_error("invalid_grant", "request not supported on this domain")
            client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
            if client_id is None and form.get("client_id"):
                client_id, secret = form["client_id"][-1], (form.get("client_secret") or [""])[-1]
            if client_id != self.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if secret != self.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            user_id = self.integration_user_id
        elif grant == JWT_GRANT:
            answer = self._check_assertion((form.get("assertion") or [""])[-1])
            if isinstance(answer, Reply):
                return answer
            user_id = answer
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        token = f"00D!{secrets.token_urlsafe(32)}"
        with self._state:
            self._tokens[token] = user_id
        return Reply.json({
            "access_token": token, "instance_url": self.my_domain_url,
            "id": f"{self.login_url}/id/{self.org_id}/{user_id}", "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)), "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api"})

    def _check_assertion(self, assertion: str) -> str | Reply:
        if self.jwt_public_key is None:
            return _oauth_error("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(assertion, self.jwt_public_key, algorithms=["RS256"],
                                options={"require": ["exp", "iss", "sub", "aud"], "verify_aud": False})
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "expired authorization code")
        except jwt.InvalidTokenError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and a.rstrip("/") in {x.rstrip("/") for x in self.audiences} for a in audiences):
            return _oauth_error("invalid_grant", "audience is invalid")
        if float(claims["exp"]) > time.time() + JWT_MAX_LIFETIME_S + 5:
            return _oauth_error("invalid_grant", "invalid assertion")
        user_id = self.users.get(str(claims.get("sub")))
        if user_id is None:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return user_id

    # ---- sObjects

    def _check_sobject(self, call: _Call) -> str | Reply:
        sobject = call.params["sobject"]
        if sobject not in self._records:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return sobject

    def _check_fields(self, sobject: str, body: Any) -> dict[str, Any] | Reply:
        if not isinstance(body, dict):
            return sf_error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        fields = {k: v for k, v in body.items() if k != "attributes"}
        unknown = [name for name in fields if name not in self.fields[sobject]]
        if unknown:
            return sf_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}")
        read_only = [name for name in fields if name in _SYSTEM]
        if read_only:
            return sf_error(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                            f"Unable to create/update fields: {', '.join(read_only)}.", read_only)
        for name in ("WhoId", "OwnerId"):
            value = fields.get(name)
            if value is None:
                continue
            known = (value in self._records["Lead"] or value in self._records["Contact"]) if name == "WhoId" \
                else value in self.users.values()
            if not known:
                return sf_error(400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", [name])
        return fields

    def _missing_required(self, sobject: str, record: Mapping[str, Any]) -> Reply | None:
        missing = [name for name in _REQUIRED[sobject] if record.get(name) in (None, "")]
        if missing:
            return sf_error(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                            missing)
        return None

    def _create(self, call: _Call) -> Reply:
        sobject = self._check_sobject(call)
        if isinstance(sobject, Reply):
            return sobject
        fields = self._check_fields(sobject, call.body)
        if isinstance(fields, Reply):
            return fields
        missing = self._missing_required(sobject, fields)
        if missing is not None:
            return missing
        duplicate = self._duplicate_external_id(sobject, fields, None)
        if duplicate is not None:
            return duplicate
        record_id = self._insert(sobject, fields, call.user_id)
        return Reply.json({"id": record_id, "success": True, "errors": []}, 201)

    def _duplicate_external_id(self, sobject: str, fields: Mapping[str, Any], own_id: str | None) -> Reply | None:
        for name in self.external_id_fields[sobject]:
            value = fields.get(name)
            if value in (None, ""):
                continue
            for other in self._records[sobject].values():
                if other["Id"] != own_id and other.get(name) == value:
                    return sf_error(400, "DUPLICATE_VALUE",
                                    f"duplicate value found: {name} duplicates value on record with id: {other['Id']}",
                                    [name])
        return None

    def _find(self, call: _Call) -> tuple[str, dict[str, Any]] | Reply:
        sobject = self._check_sobject(call)
        if isinstance(sobject, Reply):
            return sobject
        record = self._records[sobject].get(call.params["id"])
        if record is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return sobject, record

    def _fields_arg(self, sobject: str, call: _Call) -> list[str] | Reply | None:
        wanted = call.arg("fields")
        if not wanted:
            return None
        names = [name.strip() for name in wanted.split(",") if name.strip()]
        unknown = [name for name in names if name not in self.fields[sobject]]
        if unknown:
            return sf_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{sobject}'")
        return ["Id", *[name for name in names if name != "Id"]]

    def _get(self, call: _Call) -> Reply:
        found = self._find(call)
        if isinstance(found, Reply):
            return found
        sobject, record = found
        fields = self._fields_arg(sobject, call)
        if isinstance(fields, Reply):
            return fields
        return Reply.json(self._serialize(sobject, record, call.version, fields))

    def _patch(self, call: _Call) -> Reply:
        found = self._find(call)
        if isinstance(found, Reply):
            return found
        sobject, record = found
        return self._update(sobject, record, call.body, call.user_id) or Reply(204)

    def _update(self, sobject: str, record: dict[str, Any], body: Any, user_id: str) -> Reply | None:
        fields = self._check_fields(sobject, body)
        if isinstance(fields, Reply):
            return fields
        merged = {**record, **fields}
        missing = self._missing_required(sobject, merged)
        if missing is not None:
            return missing
        duplicate = self._duplicate_external_id(sobject, fields, record["Id"])
        if duplicate is not None:
            return duplicate
        record.update(fields)
        self._touch(record, user_id)
        return None

    def _delete(self, call: _Call) -> Reply:
        found = self._find(call)
        if isinstance(found, Reply):
            return found
        sobject, record = found
        del self._records[sobject][record["Id"]]
        return Reply(204)

    def _matches(self, call: _Call) -> tuple[str, str, list[dict[str, Any]]] | Reply:
        sobject = self._check_sobject(call)
        if isinstance(sobject, Reply):
            return sobject
        name, value = call.params["field"], call.params["value"]
        if name not in self.fields[sobject]:
            return sf_error(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
        if name not in self.external_id_fields[sobject] and name != "Id":
            return sf_error(400, "INVALID_FIELD", f"Field {name} is not an external id field on {sobject}", [name])
        matches = [record for record in self._records[sobject].values() if record.get(name) == value]
        return sobject, name, matches

    def _several(self, sobject: str, matches: list[dict[str, Any]], version: str) -> Reply:
        return Reply.json([f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}" for record in matches], 300)

    def _get_by_external_id(self, call: _Call) -> Reply:
        found = self._matches(call)
        if isinstance(found, Reply):
            return found
        sobject, _, matches = found
        if not matches:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        if len(matches) > 1:
            return self._several(sobject, matches, call.version)
        fields = self._fields_arg(sobject, call)
        if isinstance(fields, Reply):
            return fields
        return Reply.json(self._serialize(sobject, matches[0], call.version, fields))

    def _upsert(self, call: _Call) -> Reply:
        found = self._matches(call)
        if isinstance(found, Reply):
            return found
        sobject, name, matches = found
        if len(matches) > 1:
            return self._several(sobject, matches, call.version)
        if isinstance(call.body, dict) and call.body.get(name) not in (None, call.params["value"]):
            return sf_error(400, "INVALID_FIELD", f"The value of {name} in the body differs from the URL", [name])
        if matches:
            record = matches[0]
            problem = self._update(sobject, record, call.body, call.user_id)
            if problem is not None:
                return problem
            if not _version_at_least(call.version, 46.0):
                return Reply(204)
            return Reply.json({"id": record["Id"], "success": True, "errors": [], "created": False}, 200)
        fields = self._check_fields(sobject, call.body)
        if isinstance(fields, Reply):
            return fields
        fields[name] = call.params["value"]
        missing = self._missing_required(sobject, fields)
        if missing is not None:
            return missing
        record_id = self._insert(sobject, fields, call.user_id)
        return Reply.json({"id": record_id, "success": True, "errors": [], "created": True}, 201,
                          {"Location": f"/services/data/v{call.version}/sobjects/{sobject}/{record_id}"})

    # ---- SOQL

    def _query(self, call: _Call) -> Reply:
        text = call.arg("q")
        if not text:
            return sf_error(400, "MALFORMED_QUERY", "A query string is required (q)")
        try:
            soql = parse_soql(text)
            rows = self._run(soql, call.version)
        except _SoqlError as exc:
            return sf_error(400, exc.code, str(exc))
        return self._page(rows, 0, secrets.token_hex(8), call.version)

    def _run(self, soql: _Soql, version: str) -> list[dict[str, Any]]:
        sobject = soql.sobject
        if sobject not in self._records:
            raise _SoqlError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        used = soql.fields + [c.field for c in soql.where] + [name for name, _ in soql.order]
        unknown = [name for name in used if name not in self.fields[sobject]]
        if unknown:
            raise _SoqlError("INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{sobject}'.")
        rows = [record for record in self._records[sobject].values()
                if all(_compare(record.get(c.field), c.op, c.value) for c in soql.where)]
        for name, descending in reversed(soql.order):
            rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n) if r.get(n) is not None else 0),  # type: ignore[misc]
                      reverse=descending)
        if soql.limit is not None:
            rows = rows[:soql.limit]
        return [self._serialize(sobject, row, version, soql.fields) for row in rows]

    def _page(self, rows: list[dict[str, Any]], offset: int, locator: str, version: str) -> Reply:
        page = rows[offset:offset + self.page_size]
        body: dict[str, Any] = {"totalSize": len(rows), "done": offset + self.page_size >= len(rows),
                                "records": page}
        if not body["done"]:
            locator_id = f"01g{locator}"
            self._cursors[locator_id] = (version, rows)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator_id}-{offset + self.page_size}"
        return Reply.json(body)

    def _query_more(self, call: _Call) -> Reply:
        locator = call.params["locator"]
        stored = self._cursors.get(locator)
        if stored is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(stored[1], int(call.params["offset"]), locator[3:], call.version)

    # ---- Composite

    def _composite(self, call: _Call) -> Reply:
        body = call.body
        subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            return sf_error(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        if len(subrequests) > MAX_SUBREQUESTS:
            return sf_error(400, "LIMIT_EXCEEDED", f"Composite request is limited to {MAX_SUBREQUESTS} subrequests")
        queries = sum(1 for sub in subrequests if "/query" in str(sub.get("url", "")))
        if queries > MAX_COMPOSITE_QUERIES:
            return sf_error(400, "LIMIT_EXCEEDED",
                            f"A composite request can have at most {MAX_COMPOSITE_QUERIES} queries")
        ids = [sub.get("referenceId") for sub in subrequests]
        if any(not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z]\w*", ref) for ref in ids) or \
                len(set(ids)) != len(ids):
            return sf_error(400, "INVALID_INPUT", "Each subrequest needs a unique alphanumeric referenceId")
        all_or_none = bool(body.get("allOrNone"))
        snapshot = copy.deepcopy(self._records) if all_or_none else None
        results: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        failed = False
        for sub in subrequests:
            ref = sub["referenceId"]
            if failed and all_or_none:
                responses.append(_halted(ref, "The transaction was rolled back since another operation in the same "
                                              "transaction failed."))
                continue
            try:
                url = _resolve(str(sub.get("url", "")), results)
                sub_body = _resolve(sub.get("body"), results)
            except _Unresolved as exc:
                responses.append(_halted(ref, f"Invalid reference specified. No value for {exc} found in "
                                              f"{str(exc).split('.')[0]}. Provided referenceId ('{ref}')"))
                failed = True
                continue
            reply = self._internal(str(sub.get("method", "GET")).upper(), url, sub_body, call.user_id)
            reply_body = orjson.loads(reply.body) if reply.body else None
            responses.append({"body": reply_body, "httpHeaders": dict(reply.headers),
                              "httpStatusCode": reply.status, "referenceId": ref})
            if reply.status < 300:
                results[ref] = reply_body
            else:
                failed = True
        if failed and snapshot is not None:
            self._records = snapshot
            rolled_back = "The transaction was rolled back since another operation in the same transaction failed."
            responses = [_halted(r["referenceId"], rolled_back) if r["httpStatusCode"] < 300 else r
                         for r in responses]
        return Reply.json({"compositeResponse": responses})

    def _internal(self, method: str, url: str, body: Any, user_id: str) -> Reply:
        parts = urlsplit(url)
        for op_method, regex, name, op in self._ops:
            found = regex.match(parts.path)
            if op_method == method and found and name != COMPOSITE_ROUTE:
                params = {k: v for k, v in found.groupdict().items() if v is not None}
                query = parse_qs(parts.query, keep_blank_values=True)
                return op(_Call(params.get("version", "59.0"), params, query, body, user_id))
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")


def _halted(ref: str, message: str) -> dict[str, Any]:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": ref}


def _lookup(results: Mapping[str, Any], ref: str, path: str) -> Any:
    if ref not in results or results[ref] is None:
        raise _Unresolved(f"{ref}.{path}")
    value = results[ref]
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(step[1:-1])] if step.startswith("[") else value[step]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(f"{ref}.{path}") from None
    return value


def _resolve(value: Any, results: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole[1], whole[2])
        return _REFERENCE.sub(lambda m: str(_lookup(results, m[1], m[2])), value)
    if isinstance(value, dict):
        return {key: _resolve(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, results) for item in value]
    return value


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    if header[:6].lower() != "basic ":
        return None, None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except ValueError:
        return None, None
    key, _, secret = decoded.partition(":")
    return key, secret
