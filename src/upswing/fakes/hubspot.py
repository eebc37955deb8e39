"""A fake HubSpot CRM v3 API (``shared/reference/external-apis.md`` §5a and §7).

* Auth: ``Authorization: Bearer <token>``, a private-app token or an OAuth access token from
  ``POST /oauth/v1/token`` (``application/x-www-form-urlencoded``; grants ``authorization_code``, with the PKCE
  ``code_verifier`` checked when the code was issued with a ``code_challenge``, and ``refresh_token``). A missing
  or unknown token → 401 ``{status:"error", message, correlationId, category:"INVALID_AUTHENTICATION"}``; an
  expired OAuth token → 401 with ``category:"EXPIRED_AUTHENTICATION"``.
* Objects ``contacts``, ``notes``, ``tasks`` as SimplePublicObject (``{id, properties{str→str}, createdAt,
  updatedAt, archived}``): create, get (``?properties=``, ``?associations=``, ``?idProperty=``), PATCH, batch
  read/create/update/upsert (``{"inputs": [...]}``, at most 100), and search (``POST …/search``: up to 6
  filterGroups OR'd, filters AND'd, the reference's operators, ``limit`` ≤ 200, ``after`` paging). A property that
  does not exist on the object → 400 ``VALIDATION_ERROR`` (so custom contact properties must be created first); a
  second contact with the same e-mail, or the same value of a ``hasUniqueValue`` property → 409 ``CONFLICT``.
* Notes need ``hs_timestamp`` (body ≤ 65,536 characters); tasks need ``hs_timestamp`` and take the reference's
  status/priority/type values; ``hubspot_owner_id`` must name an owner. Associations in a create body must use
  type **202** (note→contact) or **204** (task→contact) and an existing contact; they are listed by
  ``GET /crm/v3/objects/contacts/{id}?associations=notes,tasks``, ``GET /crm/v4/objects/{from}/{id}/associations/
  {to}`` and ``POST /crm/v4/associations/{from}/{to}/batch/read``.
* ``POST /crm/v3/properties/contacts`` creates a contact property (409 if it exists); only contact properties can
  be created (the reference describes no custom properties on notes or tasks). ``GET /crm/v3/owners``;
  ``GET /account-info/v3/details`` for the portal id.
* Rate limits: every API answer carries ``X-HubSpot-RateLimit-Daily/-Daily-Remaining/-Interval-Milliseconds/-Max/
  -Remaining/-Secondly/-Secondly-Remaining``. Over ``burst_max`` requests in 10 s → 429 ``TEN_SECONDLY_ROLLING``;
  over ``search_per_s`` searches in a second → 429 ``SECONDLY`` (search has its own lower limit); the daily budget
  spent → 429 ``DAILY``. The body is ``{status, message, errorType:"RATE_LIMIT", correlationId, policyName,
  requestId}``; HubSpot documents no Retry-After, so none is sent unless a test injects one:
  ``fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("SECONDLY"), times=3)``.
* Webhooks: ``change_owner``, ``change_property`` and ``complete_task`` act as a person in HubSpot's UI and send a
  v3-signed batch (a JSON array of events) to ``webhook_target``, or return it (``send=False``) as a
  ``SignedWebhook`` for the test to hand over. Changes the API makes to subscribed properties queue echo events
  (``changeSource:"INTEGRATION"``, ``sourceId`` = the app id) that ``flush_webhooks()`` sends.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson

from upswing.fakes.server import FakeServer, Fault, Reply, Request

__all__ = [
    "BATCH_CREATE_ROUTE",
    "SEARCH_ROUTE",
    "TOKEN_ROUTE",
    "FakeHubSpot",
    "SignedWebhook",
    "hubspot_error",
    "sign_v3",
]

TOKEN_ROUTE = "oauth-token"  # noqa: S105 (a route name)
SEARCH_ROUTE = "search"
BATCH_CREATE_ROUTE = "batch-create"

OBJECT_TYPES = ("contacts", "notes", "tasks")
_TYPES = "(?P<type>contacts|notes|tasks)"
_BATCH_MAX = 100
_SEARCH_LIMIT_MAX = 200
_NOTE_BODY_MAX = 65_536
_INTERVAL_MS = 10_000

#: Association type ids (HUBSPOT_DEFINED): from type → to type → id, and the reverse direction.
ASSOCIATION_TYPES = {("notes", "contacts"): 202, ("contacts", "notes"): 201,
                     ("tasks", "contacts"): 204, ("contacts", "tasks"): 203}
_ASSOCIATION_NAMES = {201: "contact_to_note", 202: "note_to_contact", 203: "contact_to_task", 204: "task_to_contact"}

#: The properties each object has before any custom one is created.
BUILTIN_PROPERTIES: dict[str, frozenset[str]] = {
    "contacts": frozenset({"email", "firstname", "lastname", "phone", "jobtitle", "company", "hubspot_owner_id",
                           "lifecyclestage", "hs_lead_status", "hs_object_id", "createdate", "lastmodifieddate"}),
    "notes": frozenset({"hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_attachment_ids", "hs_object_id",
                        "hs_createdate", "hs_lastmodifieddate"}),
    "tasks": frozenset({"hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_priority",
                        "hs_task_type", "hubspot_owner_id", "hs_task_reminders", "hs_object_id", "hs_createdate",
                        "hs_lastmodifieddate"}),
}
_DEFAULT_READ = {"contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                 "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
                 "tasks": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")}
_ENUMS = {("tasks", "hs_task_status"): {"NOT_STARTED", "COMPLETED"},
          ("tasks", "hs_task_priority"): {"LOW", "MEDIUM", "HIGH"},
          ("tasks", "hs_task_type"): {"EMAIL", "CALL", "TODO"}}
_OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
              "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
#: Properties a change to which is sent as a webhook (the app's subscriptions).
DEFAULT_SUBSCRIPTIONS = {"contacts": ("hubspot_owner_id", "lifecyclestage", "hs_lead_status"),
                         "tasks": ("hs_task_status",)}
_SUBSCRIPTION_PREFIX = {"contacts": "contact", "notes": "note", "tasks": "task"}


def hubspot_error(status: int, message: str, category: str, *, headers: Mapping[str, str] | None = None,
                  **extra: Any) -> Reply:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return Reply.json(body, status, headers)


def sign_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: int | str) -> str:
    """``base64(HMAC_SHA256(client_secret, method + uri + body + timestamp))`` (reference §5a, signature v3)."""
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook request as HubSpot would send it (``send=False``): POST ``body`` to ``url`` with ``headers``."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    method: str = "POST"

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(orjson.loads(self.body))


@dataclass
class _Object:
    id: str
    type: str
    properties: dict[str, str]
    created_at: str
    updated_at: str

    def public(self, names: Iterable[str] | None) -> dict[str, Any]:
        wanted = list(names) if names is not None else list(_DEFAULT_READ[self.type])
        wanted += [name for name in ("hs_object_id",) if name not in wanted]
        return {"id": self.id, "properties": {name: self.properties.get(name) for name in wanted},
                "createdAt": self.created_at, "updatedAt": self.updated_at, "archived": False}


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    method: str


@dataclass
class _Owner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int

    def public(self) -> dict[str, Any]:
        now = _iso_now()
        return {"id": self.id, "email": self.email, "firstName": self.first_name, "lastName": self.last_name,
                "userId": self.user_id, "createdAt": now, "updatedAt": now, "archived": False}


@dataclass
class _Limits:
    burst: deque[float] = field(default_factory=deque)
    searches: deque[float] = field(default_factory=deque)
    daily_used: int = 0


class FakeHubSpot(FakeServer):
    name = "fake-hubspot"

    def __init__(self, *, access_token: str = "pat-na1-test-token",  # noqa: S107 (a fake's test credentials)
                 client_id: str = "hs-client-id", client_secret: str = "hs-client-secret",  # noqa: S107
                 portal_id: int = 4_242_424, app_id: int = 777_001,
                 webhook_target: str | None = None, burst_max: int = 190, search_per_s: int = 5,
                 daily_limit: int = 250_000, token_ttl_s: int = 1800,
                 subscriptions: Mapping[str, Iterable[str]] | None = None) -> None:
        super().__init__()
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.portal_id = portal_id
        self.app_id = app_id
        self.webhook_target = webhook_target
        self.burst_max = burst_max
        self.search_per_s = search_per_s
        self.daily_limit = daily_limit
        self.token_ttl_s = token_ttl_s
        self.subscriptions = {kind: tuple(names) for kind, names in (subscriptions or DEFAULT_SUBSCRIPTIONS).items()}
        self._objects: dict[str, dict[str, _Object]] = {kind: {} for kind in OBJECT_TYPES}
        self._associations: set[tuple[str, str, str, str]] = set()  # (from type, from id, to type, to id)
        self._custom: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in OBJECT_TYPES}
        self._owners: dict[str, _Owner] = {}
        self._ids = itertools.count(10_001)
        self._event_ids = itertools.count(1_000_000_001)
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, float] = {}  # OAuth access token → expiry (time.time())
        self._refresh_tokens: set[str] = set()
        self._limits = _Limits()
        self._pending_events: list[dict[str, Any]] = []
        self.deliveries: list[tuple[SignedWebhook, int]] = []  # webhooks sent and the status they got
        routes: list[tuple[str, str, str, Callable[[Request], Reply]]] = [
            ("POST", r"^/oauth/v1/token$", TOKEN_ROUTE, self._token),
            ("GET", r"^/account-info/v3/details$", "account-info", self._api(self._account_info)),
            ("GET", r"^/crm/v3/owners/?$", "owners", self._api(self._list_owners)),
            ("POST", r"^/crm/v3/properties/(?P<type>\w+)$", "property-create", self._api(self._create_property)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}/search$", SEARCH_ROUTE, self._api(self._search, search=True)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}/batch/read$", "batch-read", self._api(self._batch_read)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}/batch/create$", BATCH_CREATE_ROUTE, self._api(self._batch_create)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}/batch/update$", "batch-update", self._api(self._batch_update)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}/batch/upsert$", "batch-upsert", self._api(self._batch_upsert)),
            ("POST", rf"^/crm/v3/objects/{_TYPES}$", "object-create", self._api(self._create)),
            ("GET", rf"^/crm/v3/objects/{_TYPES}/(?P<id>[^/]+)$", "object-get", self._api(self._get)),
            ("PATCH", rf"^/crm/v3/objects/{_TYPES}/(?P<id>[^/]+)$", "object-update", self._api(self._update)),
            ("GET", r"^/crm/v4/objects/(?P<type>\w+)/(?P<id>[^/]+)/associations/(?P<to>\w+)$", "associations",
             self._api(self._list_associations)),
            ("POST", r"^/crm/v4/associations/(?P<type>\w+)/(?P<to>\w+)/batch/read$", "associations-batch-read",
             self._api(self._batch_read_associations)),
        ]
        for method, pattern, name, handler in routes:
            self.add_route(method, pattern, name, handler)

    # ---- test helpers: state

    def add_owner(self, email: str, first_name: str = "Dana", last_name: str = "Owner") -> str:
        with self._lock:
            owner_id = str(next(self._ids))
            self._owners[owner_id] = _Owner(owner_id, email, first_name, last_name, user_id=int(owner_id) + 5_000_000)
            return owner_id

    def seed_contact(self, **properties: str) -> str:
        """A contact made by someone in HubSpot (no webhook, no property checks beyond existence)."""
        with self._lock:
            return self._store("contacts", properties).id

    def contacts(self) -> list[dict[str, Any]]:
        """Every contact: ``{"id": …, **properties}``."""
        with self._lock:
            return [{"id": obj.id, **obj.properties} for obj in self._objects["contacts"].values()]

    def contact(self, contact_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._objects["contacts"][contact_id].properties)

    def notes(self, contact_id: str | None = None) -> list[dict[str, Any]]:
        return self._engagements("notes", contact_id)

    def tasks(self, contact_id: str | None = None) -> list[dict[str, Any]]:
        return self._engagements("tasks", contact_id)

    def properties(self, object_type: str = "contacts") -> dict[str, dict[str, Any]]:
        """The custom properties created on an object type (name → definition)."""
        with self._lock:
            return copy.deepcopy(self._custom[object_type])

    def expire_access_tokens(self) -> None:
        """Every OAuth access token issued so far expires now (the next call with one is 401 EXPIRED)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    def authorize(self, redirect_uri: str, *, scopes: Iterable[str] = ("oauth",), code_challenge: str | None = None,
                  code_challenge_method: str = "S256") -> str:
        """What the user's consent at ``app.hubspot.com/oauth/authorize`` leads to: an authorization code."""
        code = secrets.token_urlsafe(18)
        with self._lock:
            self._codes[code] = _Code(self.client_id, redirect_uri, list(scopes), code_challenge, code_challenge_method)
        return code

    def issue_refresh_token(self) -> str:
        """A refresh token as if the OAuth install had happened earlier."""
        token = f"na1-{uuid.uuid4()}"
        with self._lock:
            self._refresh_tokens.add(token)
        return token

    # ---- test helpers: a person working in HubSpot, and the webhooks that tells the app about

    def change_property(self, object_type: str, object_id: str, name: str, value: str, *,
                        change_source: str = "CRM_UI", source_id: str | None = "userId:9001", send: bool = True,
                        occurred_at_ms: int | None = None) -> SignedWebhook | httpx.Response | None:
        """Set a property as a user would; the webhook for it is sent (``send``) or returned as a SignedWebhook."""
        with self._lock:
            obj = self._objects[object_type][object_id]
            obj.properties[name] = value
            obj.updated_at = _iso_now()
            obj.properties["lastmodifieddate" if obj.type == "contacts" else "hs_lastmodifieddate"] = obj.updated_at
            event = self._event(object_type, object_id, name, value, change_source, source_id, occurred_at_ms)
        return self.send_webhook([event]) if send else self.signed_webhook([event])

    def change_owner(self, contact_id: str, owner_id: str, **kwargs: Any) -> SignedWebhook | httpx.Response | None:
        return self.change_property("contacts", contact_id, "hubspot_owner_id", owner_id, **kwargs)

    def complete_task(self, task_id: str, **kwargs: Any) -> SignedWebhook | httpx.Response | None:
        return self.change_property("tasks", task_id, "hs_task_status", "COMPLETED", **kwargs)

    def property_change_event(self, object_type: str, object_id: str, name: str, value: str, *,
                              change_source: str = "CRM_UI", source_id: str | None = "userId:9001",
                              occurred_at_ms: int | None = None, attempt: int = 0) -> dict[str, Any]:
        """One event in the reference's shape, without changing any state (for hand-built batches)."""
        with self._lock:
            event = self._event(object_type, object_id, name, value, change_source, source_id, occurred_at_ms)
        event["attemptNumber"] = attempt
        return event

    def pending_events(self) -> list[dict[str, Any]]:
        """Echo events queued by API writes to subscribed properties, not yet sent."""
        with self._lock:
            return list(self._pending_events)

    def flush_webhooks(self, *, send: bool = True) -> SignedWebhook | httpx.Response | None:
        """Send (or return) the queued echo events as one batch (HubSpot batches up to 100)."""
        with self._lock:
            events, self._pending_events = self._pending_events[:100], self._pending_events[100:]
        if not events:
            return None
        return self.send_webhook(events) if send else self.signed_webhook(events)

    def signed_webhook(self, events: list[dict[str, Any]], *, url: str | None = None,
                       timestamp_ms: int | None = None, secret: str | None = None) -> SignedWebhook:
        target = url or self.webhook_target
        if target is None:
            raise RuntimeError("no webhook_target configured and no url given")
        body = orjson.dumps(events)
        timestamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        signature = sign_v3(secret or self.client_secret, "POST", target, body, timestamp)
        headers = {"Content-Type": "application/json", "X-HubSpot-Signature-v3": signature,
                   "X-HubSpot-Request-Timestamp": str(timestamp)}
        return SignedWebhook(target, headers, body)

    def send_webhook(self, events: list[dict[str, Any]], **kwargs: Any) -> httpx.Response:
        webhook = self.signed_webhook(events, **kwargs)
        answer = httpx.post(webhook.url, content=webhook.body, headers=dict(webhook.headers), timeout=10)
        with self._lock:
            self.deliveries.append((webhook, answer.status_code))
        return answer

    @staticmethod
    def rate_limited(policy: str = "TEN_SECONDLY_ROLLING", *, retry_after: str | None = None, max_: int = 190,
                     interval_ms: int = _INTERVAL_MS, daily_limit: int = 250_000) -> Fault:
        """A 429 as HubSpot sends it, for ``fake.inject(route, ...)``."""
        headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": str(interval_ms),
                   "X-HubSpot-RateLimit-Max": str(max_),
                   "X-HubSpot-RateLimit-Remaining": "0" if policy == "TEN_SECONDLY_ROLLING" else "1",
                   "X-HubSpot-RateLimit-Secondly-Remaining": "0" if policy == "SECONDLY" else "1",
                   "X-HubSpot-RateLimit-Daily": str(daily_limit),
                   "X-HubSpot-RateLimit-Daily-Remaining": "0" if policy == "DAILY" else str(daily_limit // 2)}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return Fault.error(429, _rate_limit_body(policy), headers)

    # ---- dispatch: the limit headers go on every API answer, injected faults included

    def dispatch(self, request: Request, *, absolute_uri: str) -> tuple[Reply, Fault | None]:
        reply, fault = super().dispatch(request, absolute_uri=absolute_uri)
        if not request.path.startswith("/oauth/"):
            reply = Reply(reply.status, reply.body, {**self._limit_headers(), **reply.headers}, reply.content_type)
        return reply, fault

    def _api(self, handler: Callable[[Request], Reply], *, search: bool = False) -> Callable[[Request], Reply]:
        def guarded(request: Request) -> Reply:
            problem = self._authenticate(request)
            if problem is not None:
                return problem
            limited = self._meter(search)
            if limited is not None:
                return limited
            try:
                body = request.json() if request.method in ("POST", "PATCH") else None
            except ValueError:
                return hubspot_error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
            if request.method in ("POST", "PATCH") and not isinstance(body, dict | list):
                return hubspot_error(400, "Invalid input JSON: expected an object", "VALIDATION_ERROR")
            return handler(request)
        return guarded

    def _authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if token is not None and token == self.access_token:
            return None
        with self._lock:
            expiry = self._tokens.get(token or "")
        if expiry is not None and expiry > time.time():
            return None
        if expiry is not None:
            return hubspot_error(401, "The OAuth token used to make this call expired 1 minute(s) ago.",
                                 "EXPIRED_AUTHENTICATION")
        return hubspot_error(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                             "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
                             "oauth-overview", "INVALID_AUTHENTICATION")

    def _meter(self, search: bool) -> Reply | None:
        now = time.monotonic()
        with self._lock:
            limits = self._limits
            while limits.burst and limits.burst[0] <= now - _INTERVAL_MS / 1000:
                limits.burst.popleft()
            while limits.searches and limits.searches[0] <= now - 1:
                limits.searches.popleft()
            if limits.daily_used >= self.daily_limit:
                policy: str | None = "DAILY"
            elif len(limits.burst) >= self.burst_max:
                policy = "TEN_SECONDLY_ROLLING"
            elif search and len(limits.searches) >= self.search_per_s:
                policy = "SECONDLY"
            else:
                policy = None
                limits.burst.append(now)
                limits.daily_used += 1
                if search:
                    limits.searches.append(now)
        if policy is None:
            return None
        return Reply.json(_rate_limit_body(policy), 429)

    def _limit_headers(self) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            in_window = sum(1 for at in self._limits.burst if at > now - _INTERVAL_MS / 1000)
            in_second = sum(1 for at in self._limits.burst if at > now - 1)
            daily_used = self._limits.daily_used
        secondly = max(1, self.burst_max // 10)
        return {"X-HubSpot-RateLimit-Daily": str(self.daily_limit),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - daily_used)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(_INTERVAL_MS),
                "X-HubSpot-RateLimit-Max": str(self.burst_max),
                "X-HubSpot-RateLimit-Remaining": str(max(0, self.burst_max - in_window)),
                "X-HubSpot-RateLimit-Secondly": str(secondly),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, secondly - in_second))}

    # ---- OAuth

    def _token(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _oauth_error("BAD_REQUEST", "The request body must be application/x-www-form-urlencoded")
        form = {key: values[-1] for key, values in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        if form.get("client_id") != self.client_id:
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        if not hmac.compare_digest(form.get("client_secret", ""), self.client_secret):
            return _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                code = self._codes.pop(form.get("code", ""), None)
            if code is None:
                return _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != code.redirect_uri:
                return _oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match the one authorized")
            if code.challenge is not None and not _pkce_ok(code, form.get("code_verifier")):
                return _oauth_error("BAD_AUTH_CODE", "code_verifier does not match the code_challenge")
            scopes = code.scopes
        elif grant == "refresh_token":
            with self._lock:
                known = form.get("refresh_token", "") in self._refresh_tokens
            if not known:
                return _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            scopes = ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"]
        else:
            return _oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant!r}")
        access = f"CJ{secrets.token_urlsafe(24)}"
        refresh = form.get("refresh_token") if grant == "refresh_token" else f"na1-{uuid.uuid4()}"
        assert refresh is not None
        with self._lock:
            self._tokens[access] = time.time() + self.token_ttl_s
            self._refresh_tokens.add(refresh)
        return Reply.json({"access_token": access, "refresh_token": refresh, "expires_in": self.token_ttl_s,
                           "token_type": "bearer", "hub_id": self.portal_id, "scopes": scopes})

    # ---- account, owners, properties

    def _account_info(self, request: Request) -> Reply:
        return Reply.json({"portalId": self.portal_id, "accountType": "STANDARD", "timeZone": "Europe/Berlin",
                           "companyCurrency": "EUR", "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"})

    def _list_owners(self, request: Request) -> Reply:
        limit = int(request.arg("limit") or 100)
        start = int(request.arg("after") or 0)
        email = request.arg("email")
        with self._lock:
            owners = [o.public() for o in self._owners.values() if email is None or o.email == email]
        page = owners[start:start + limit]
        body: dict[str, Any] = {"results": page}
        if start + limit < len(owners):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return Reply.json(body)

    def _create_property(self, request: Request) -> Reply:
        object_type = request.params["type"]
        body = request.json()
        if object_type != "contacts":
            return hubspot_error(400, f"This fake creates custom properties on contacts only, not {object_type}",
                                 "VALIDATION_ERROR")
        missing = [key for key in ("name", "label", "type", "fieldType", "groupName") if not body.get(key)]
        if missing:
            return hubspot_error(400, f"Property definition is missing {', '.join(missing)}", "VALIDATION_ERROR")
        name = str(body["name"])
        with self._lock:
            if name in self._custom[object_type] or name in BUILTIN_PROPERTIES[object_type]:
                return hubspot_error(409, f"A property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS",
                                     subCategory="Properties.PROPERTY_EXISTS")
            definition = {**body, "hidden": False, "formField": bool(body.get("formField", False)),
                          "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
                          "createdAt": _iso_now(), "updatedAt": _iso_now()}
            self._custom[object_type][name] = definition
        return Reply.json(definition, 201)

    # ---- objects

    def _create(self, request: Request) -> Reply:
        object_type = request.params["type"]
        with self._lock:
            result = self._create_one(object_type, request.json())
        return result if isinstance(result, Reply) else Reply.json(result.public(result.properties), 201)

    def _get(self, request: Request) -> Reply:
        object_type = request.params["type"]
        names = _names(request.arg("properties"))
        with self._lock:
            obj = self._find(object_type, request.params["id"], request.arg("idProperty"))
            if obj is None:
                return _not_found(object_type, request.params["id"])
            body = obj.public(names)
            wanted = _names(request.arg("associations")) or []
            associations = {to: {"results": [{"id": to_id, "type": _ASSOCIATION_NAMES[ASSOCIATION_TYPES[
                (object_type, to)]]} for to_id in self._associated(object_type, obj.id, to)]}
                for to in wanted if (object_type, to) in ASSOCIATION_TYPES}
        if associations:
            body["associations"] = {to: found for to, found in associations.items() if found["results"]}
        return Reply.json(body)

    def _update(self, request: Request) -> Reply:
        object_type = request.params["type"]
        body = request.json()
        with self._lock:
            obj = self._find(object_type, request.params["id"], request.arg("idProperty"))
            if obj is None:
                return _not_found(object_type, request.params["id"])
            result = self._update_one(obj, body.get("properties") or {})
        return result if isinstance(result, Reply) else Reply.json(result.public(result.properties))

    def _batch_read(self, request: Request) -> Reply:
        object_type = request.params["type"]
        body = request.json()
        inputs = body.get("inputs") or []
        if (problem := _batch_problem(inputs)) is not None:
            return problem
        names = body.get("properties") or None
        results, missing = [], []
        with self._lock:
            for item in inputs:
                obj = self._find(object_type, str(item.get("id")), body.get("idProperty"))
                if obj is None:
                    missing.append(str(item.get("id")))
                else:
                    results.append(obj.public(names))
        return _batch_reply(results, missing, object_type, status=200)

    def _batch_create(self, request: Request) -> Reply:
        object_type = request.params["type"]
        inputs = request.json().get("inputs") or []
        if (problem := _batch_problem(inputs)) is not None:
            return problem
        with self._lock:
            # all or nothing: check every input against a copy of the state before writing any
            for item in inputs:
                problem = self._create_problem(object_type, item, pending=inputs)
                if problem is not None:
                    return problem
            created = [self._create_one(object_type, item) for item in inputs]
        return _batch_reply([obj.public(obj.properties) for obj in created if isinstance(obj, _Object)], [],
                            object_type, status=201)

    def _batch_update(self, request: Request) -> Reply:
        object_type = request.params["type"]
        body = request.json()
        inputs = body.get("inputs") or []
        if (problem := _batch_problem(inputs)) is not None:
            return problem
        with self._lock:
            found = [(self._find(object_type, str(item.get("id")), body.get("idProperty")), item) for item in inputs]
            missing = [str(item.get("id")) for obj, item in found if obj is None]
            if missing:
                return _batch_reply([], missing, object_type, status=404)
            for obj, item in found:
                assert obj is not None
                problem = self._property_problem(object_type, item.get("properties") or {}, obj.id)
                if problem is not None:
                    return problem
            results = []
            for obj, item in found:
                assert obj is not None
                updated = self._update_one(obj, item.get("properties") or {})
                assert isinstance(updated, _Object)
                results.append(updated.public(updated.properties))
        return _batch_reply(results, [], object_type, status=200)

    def _batch_upsert(self, request: Request) -> Reply:
        object_type = request.params["type"]
        inputs = request.json().get("inputs") or []
        if (problem := _batch_problem(inputs)) is not None:
            return problem
        results = []
        with self._lock:
            for item in inputs:
                id_property = item.get("idProperty") or "hs_object_id"
                if id_property != "email" and not self._custom[object_type].get(id_property, {}).get("hasUniqueValue"):
                    return hubspot_error(400, f"idProperty {id_property} must be a unique-value property",
                                         "VALIDATION_ERROR")
                obj = self._find(object_type, str(item.get("id")), id_property)
                properties = {**(item.get("properties") or {}), id_property: str(item.get("id"))}
                outcome = (self._update_one(obj, properties) if obj is not None
                           else self._create_one(object_type, {"properties": properties}))
                if isinstance(outcome, Reply):
                    return outcome
                results.append({**outcome.public(outcome.properties), "new": obj is None})
        return _batch_reply(results, [], object_type, status=200)

    def _search(self, request: Request) -> Reply:
        object_type = request.params["type"]
        body = request.json()
        groups = body.get("filterGroups") or []
        limit = int(body.get("limit") or 10)
        if len(groups) > 6:
            return hubspot_error(400, "There can be at most 6 filterGroups", "VALIDATION_ERROR")
        if limit > _SEARCH_LIMIT_MAX:
            return hubspot_error(400, f"limit must be at most {_SEARCH_LIMIT_MAX}", "VALIDATION_ERROR")
        for group in groups:
            for condition in group.get("filters") or []:
                if condition.get("operator") not in _OPERATORS:
                    return hubspot_error(400, f"Unknown operator {condition.get('operator')!r}", "VALIDATION_ERROR")
        start = int(body.get("after") or 0)
        with self._lock:
            matches = [obj for obj in self._objects[object_type].values()
                       if not groups or any(all(_matches(obj.properties, c) for c in g.get("filters") or [])
                                            for g in groups)]
            matches.sort(key=lambda obj: int(obj.id))
            page = [obj.public(body.get("properties") or None) for obj in matches[start:start + limit]]
        answer: dict[str, Any] = {"total": len(matches), "results": page}
        if start + limit < len(matches):
            answer["paging"] = {"next": {"after": str(start + limit), "link": "?after=" + str(start + limit)}}
        return Reply.json(answer)

    def _list_associations(self, request: Request) -> Reply:
        from_type, to_type = request.params["type"], request.params["to"]
        if (from_type, to_type) not in ASSOCIATION_TYPES:
            return hubspot_error(400, f"Unknown association {from_type} → {to_type}", "VALIDATION_ERROR")
        with self._lock:
            ids = self._associated(from_type, request.params["id"], to_type)
        return Reply.json({"results": [_v4(to_id, ASSOCIATION_TYPES[(from_type, to_type)]) for to_id in ids]})

    def _batch_read_associations(self, request: Request) -> Reply:
        from_type, to_type = request.params["type"], request.params["to"]
        if (from_type, to_type) not in ASSOCIATION_TYPES:
            return hubspot_error(400, f"Unknown association {from_type} → {to_type}", "VALIDATION_ERROR")
        inputs = request.json().get("inputs") or []
        if len(inputs) > 1000:
            return hubspot_error(400, "At most 1000 inputs", "VALIDATION_ERROR")
        type_id = ASSOCIATION_TYPES[(from_type, to_type)]
        with self._lock:
            results = [{"from": {"id": str(item.get("id"))},
                        "to": [_v4(to_id, type_id) for to_id in self._associated(from_type, str(item.get("id")),
                                                                                  to_type)]}
                       for item in inputs]
        now = _iso_now()
        return Reply.json({"status": "COMPLETE", "results": [r for r in results if r["to"]],
                           "startedAt": now, "completedAt": now})

    # ---- state (called with the lock held)

    def _store(self, object_type: str, properties: Mapping[str, str]) -> _Object:
        object_id = str(next(self._ids))
        now = _iso_now()
        stamps = ({"createdate": now, "lastmodifieddate": now} if object_type == "contacts"
                  else {"hs_createdate": now, "hs_lastmodifieddate": now})
        obj = _Object(object_id, object_type, {**{k: str(v) for k, v in properties.items()}, **stamps,
                                               "hs_object_id": object_id}, now, now)
        self._objects[object_type][object_id] = obj
        return obj

    def _create_problem(self, object_type: str, body: Mapping[str, Any],
                        pending: list[Mapping[str, Any]] | None = None) -> Reply | None:
        properties = body.get("properties") or {}
        problem = self._property_problem(object_type, properties, None)
        if problem is not None:
            return problem
        if object_type in ("notes", "tasks") and not properties.get("hs_timestamp"):
            return hubspot_error(400, "Property values were not valid: hs_timestamp is required", "VALIDATION_ERROR")
        if object_type == "contacts" and pending:
            email = str(properties.get("email") or "").lower()
            if email and sum(1 for item in pending
                             if str((item.get("properties") or {}).get("email") or "").lower() == email) > 1:
                return hubspot_error(409, f"Duplicate email {email} in batch", "CONFLICT")
        for association in body.get("associations") or []:
            to_id = str((association.get("to") or {}).get("id"))
            types = association.get("types") or []
            expected = ASSOCIATION_TYPES.get((object_type, "contacts"))
            ids = {t.get("associationTypeId") for t in types}
            if expected is None or ids != {expected} or any(t.get("associationCategory") != "HUBSPOT_DEFINED"
                                                            for t in types):
                return hubspot_error(400, f"invalid association type {sorted(map(str, ids))} from {object_type} "
                                     "to contacts", "VALIDATION_ERROR")
            if to_id not in self._objects["contacts"]:
                return hubspot_error(400, f"contact {to_id} to associate with does not exist", "VALIDATION_ERROR")
        return None

    def _create_one(self, object_type: str, body: Mapping[str, Any]) -> _Object | Reply:
        problem = self._create_problem(object_type, body)
        if problem is not None:
            return problem
        obj = self._store(object_type, body.get("properties") or {})
        for association in body.get("associations") or []:
            to_id = str(association["to"]["id"])
            self._associations.add((object_type, obj.id, "contacts", to_id))
            self._associations.add(("contacts", to_id, object_type, obj.id))
        self._queue_echo(obj, {name: obj.properties[name] for name in (body.get("properties") or {})})
        return obj

    def _update_one(self, obj: _Object, properties: Mapping[str, Any]) -> _Object | Reply:
        problem = self._property_problem(obj.type, properties, obj.id)
        if problem is not None:
            return problem
        changed = {k: str(v) for k, v in properties.items() if obj.properties.get(k) != str(v)}
        obj.properties.update({k: str(v) for k, v in properties.items()})
        obj.updated_at = _iso_now()
        obj.properties["lastmodifieddate" if obj.type == "contacts" else "hs_lastmodifieddate"] = obj.updated_at
        self._queue_echo(obj, changed)
        return obj

    def _property_problem(self, object_type: str, properties: Mapping[str, Any], own_id: str | None) -> Reply | None:
        known = BUILTIN_PROPERTIES[object_type] | set(self._custom[object_type])
        unknown = sorted(set(properties) - known)
        if unknown:
            details = [{"isValid": False, "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST", "name": name} for name in unknown]
            return hubspot_error(400, f"Property values were not valid: {orjson.dumps(details).decode()}",
                                 "VALIDATION_ERROR")
        for name, value in properties.items():
            allowed = _ENUMS.get((object_type, name))
            if allowed is not None and value not in allowed:
                return hubspot_error(400, f"Property values were not valid: {value!r} is not a valid option for "
                                     f"{name}", "VALIDATION_ERROR")
            if name == "hubspot_owner_id" and value not in ("", None) and str(value) not in self._owners:
                return hubspot_error(400, f"Property values were not valid: {value} is not a valid owner id",
                                     "VALIDATION_ERROR")
        if object_type == "notes" and len(str(properties.get("hs_note_body") or "")) > _NOTE_BODY_MAX:
            return hubspot_error(400, "hs_note_body is longer than 65536 characters", "VALIDATION_ERROR")
        unique = ["email"] if object_type == "contacts" else []
        unique += [name for name, d in self._custom[object_type].items() if d.get("hasUniqueValue")]
        for name in unique:
            value = str(properties.get(name) or "").lower()
            if not value:
                continue
            clash = next((o for o in self._objects[object_type].values()
                          if o.id != own_id and o.properties.get(name, "").lower() == value), None)
            if clash is not None:
                return hubspot_error(409, f"Contact already exists. Existing ID: {clash.id}", "CONFLICT")
        return None

    def _find(self, object_type: str, key: str, id_property: str | None) -> _Object | None:
        if id_property in (None, "", "hs_object_id"):
            return self._objects[object_type].get(key)
        return next((obj for obj in self._objects[object_type].values()
                     if obj.properties.get(id_property or "", "").lower() == key.lower()), None)

    def _associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        return sorted((t for f, i, tt, t in self._associations if (f, i, tt) == (from_type, from_id, to_type)),
                      key=int)

    def _engagements(self, object_type: str, contact_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            objects = list(self._objects[object_type].values())
            if contact_id is not None:
                ids = set(self._associated("contacts", contact_id, object_type))
                objects = [obj for obj in objects if obj.id in ids]
            return [{"id": obj.id, **obj.properties,
                     "contact_ids": self._associated(object_type, obj.id, "contacts")} for obj in objects]

    def _event(self, object_type: str, object_id: str, name: str, value: str, change_source: str,
               source_id: str | None, occurred_at_ms: int | None) -> dict[str, Any]:
        prefix = _SUBSCRIPTION_PREFIX[object_type]
        event: dict[str, Any] = {
            "eventId": next(self._event_ids), "subscriptionId": 100 + OBJECT_TYPES.index(object_type),
            "portalId": self.portal_id, "appId": self.app_id,
            "occurredAt": occurred_at_ms if occurred_at_ms is not None else int(time.time() * 1000),
            "subscriptionType": f"{prefix}.propertyChange", "attemptNumber": 0, "objectId": int(object_id),
            "propertyName": name, "propertyValue": value, "changeSource": change_source,
            "changeFlag": "PROPERTY_CHANGE"}
        if source_id is not None:
            event["sourceId"] = source_id
        return event

    def _queue_echo(self, obj: _Object, changed: Mapping[str, str]) -> None:
        for name in self.subscriptions.get(obj.type, ()):
            if name in changed:
                self._pending_events.append(self._event(obj.type, obj.id, name, changed[name], "INTEGRATION",
                                                        str(self.app_id), None))


# ---- helpers


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _names(raw: str | None) -> list[str] | None:
    return [name for name in (raw or "").split(",") if name] or None


def _v4(to_id: str, type_id: int) -> dict[str, Any]:
    return {"toObjectId": int(to_id), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id,
                                                            "label": None}]}


def _rate_limit_body(policy: str) -> dict[str, Any]:
    words = {"SECONDLY": "secondly", "TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "DAILY": "daily"}
    return {"status": "error", "message": f"You have reached your {words.get(policy, policy.lower())} limit.",
            "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": policy,
            "groupName": "publicapi", "requestId": uuid.uuid4().hex}


def _oauth_error(status: str, message: str) -> Reply:
    return Reply.json({"status": status, "message": message, "correlationId": str(uuid.uuid4())}, 400)


def _pkce_ok(code: _Code, verifier: str | None) -> bool:
    if not verifier:
        return False
    if code.method == "plain":
        derived = verifier
    else:
        derived = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(derived, code.challenge or "")


def _not_found(object_type: str, object_id: str) -> Reply:
    return hubspot_error(404, f"Object not found.  objectId are usually numeric. ({object_type} {object_id})",
                         "OBJECT_NOT_FOUND")


def _batch_problem(inputs: Any) -> Reply | None:
    if not isinstance(inputs, list) or not inputs:
        return hubspot_error(400, "inputs must be a non-empty list", "VALIDATION_ERROR")
    if len(inputs) > _BATCH_MAX:
        return hubspot_error(400, f"Batch input is limited to {_BATCH_MAX} inputs, got {len(inputs)}",
                             "VALIDATION_ERROR")
    return None


def _batch_reply(results: list[dict[str, Any]], missing: list[str], object_type: str, *, status: int) -> Reply:
    now = _iso_now()
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if missing:
        body["numErrors"] = 1
        body["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {object_type} objects, they may be deleted or not exist.",
                           "context": {"ids": missing}}]
        if status == 200:
            status = 207  # multi-status: some inputs failed
    return Reply.json(body, status)


_TOKEN_SPLIT = re.compile(r"[^\w-]+")


def _matches(properties: Mapping[str, str], condition: Mapping[str, Any]) -> bool:
    """One search filter. String comparisons ignore case; CONTAINS_TOKEN matches a whole token (split on anything
    but letters, digits, ``_`` and ``-``; ``*`` is a wildcard)."""
    operator = condition.get("operator")
    value = properties.get(str(condition.get("propertyName")))
    present = value not in (None, "")
    wanted = str(condition.get("value", "")).lower()
    if operator == "HAS_PROPERTY":
        return present
    if operator == "NOT_HAS_PROPERTY":
        return not present
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = re.compile("^" + ".*".join(map(re.escape, wanted.split("*"))) + "$")
        found = present and any(pattern.match(token) for token in _TOKEN_SPLIT.split(str(value).lower()))
        return found if operator == "CONTAINS_TOKEN" else not found
    if operator in ("IN", "NOT_IN"):
        inside = present and str(value).lower() in {str(v).lower() for v in condition.get("values") or []}
        return inside if operator == "IN" else not inside
    if operator == "NEQ":
        return str(value or "").lower() != wanted
    if not present:
        return False
    actual = str(value).lower()
    if operator == "EQ":
        return actual == wanted
    if operator == "BETWEEN":
        high = str(condition.get("highValue", "")).lower()
        return _compare(actual, wanted) >= 0 and _compare(actual, high) <= 0
    order = _compare(actual, wanted)
    return {"LT": order < 0, "LTE": order <= 0, "GT": order > 0, "GTE": order >= 0}.get(str(operator), False)


def _compare(left: str, right: str) -> int:
    try:
        a, b = float(left), float(right)
        return (a > b) - (a < b)
    except ValueError:
        return (left > right) - (left < right)
